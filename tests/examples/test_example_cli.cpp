// The command-line helpers the examples share: client addresses and ports.
#include <gtest/gtest.h>

#include "example_cli.hpp"

namespace {

using examples::parseHostPort;

TEST(ExampleCli, ABarePortMeansLoopback) {
  EXPECT_EQ(parseHostPort("8000"), (spindle::HostPort{"127.0.0.1", 8000}));
  EXPECT_EQ(parseHostPort("65535"), (spindle::HostPort{"127.0.0.1", 65535}));
}

TEST(ExampleCli, HostAndPort) {
  EXPECT_EQ(parseHostPort("localhost:10000"), (spindle::HostPort{"localhost", 10000}));
  EXPECT_EQ(parseHostPort("127.0.0.9:1"), (spindle::HostPort{"127.0.0.9", 1}));
  EXPECT_EQ(parseHostPort("[::1]:10000"), (spindle::HostPort{"::1", 10000}));
}

TEST(ExampleCli, RejectsWhatIsNotAnAddress) {
  for (const char* bad :
       {"", "0", "65536", "-1", "+80", "80x", "port", ":80", "host:", "host:0", "::1:80", "[::1]",
        "[::1]80", "[localhost]:80", "[1.2.3.4]:80", "[]:80"}) {
    EXPECT_EQ(parseHostPort(bad), std::nullopt) << bad;
  }
}

}  // namespace
