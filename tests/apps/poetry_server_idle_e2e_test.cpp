// poetry-server's --idle-timeout end to end: a client that never reads a poem too big for the
// kernel's socket buffers is dropped, and the server serves everyone else meanwhile and after.
#include <algorithm>
#include <chrono>
#include <fstream>

#include <gtest/gtest.h>

#include "poetry_processes.hpp"
#include "raw_client.hpp"

namespace {

using namespace poetry_test;
using SteadyClock = std::chrono::steady_clock;

// Bigger than anything the kernel can hold for one connection (the sender's buffer may grow to
// the last field of tcp_wmem), so a client that never reads leaves bytes in the server's own
// buffer.
std::size_t bigEnoughPoem() {
  std::size_t min = 0, initial = 0, max = 0;
  std::ifstream("/proc/sys/net/ipv4/tcp_wmem") >> min >> initial >> max;
  return std::max<std::size_t>(16 << 20, 2 * max + (1 << 20));
}

TEST(PoetryServerIdleE2E, DropsAClientThatNeverReadsAndServesTheOthers) {
  TempPoem poem(bigEnoughPoem());
  auto server = startServer({"--delay", "0", "--idle-timeout", "0.5", poem.path()});
  ASSERT_GT(server.port, 0);

  auto start = SteadyClock::now();
  RawClient stalled(server.port, 4096);  // a tiny window, and it never reads
  // A client that reads, meanwhile, gets the whole poem.
  RawClient reader(server.port);
  EXPECT_TRUE(reader.readUntilClosed(10s));
  EXPECT_TRUE(reader.received() == poem.text()) << reader.received().size() << " bytes";

  std::string line = "poetry-server: dropped 127.0.0.1:" + std::to_string(stalled.localPort()) +
                     ": spindle::IdleTimeoutError: Connection was idle for 0.5 seconds\n";
  ASSERT_TRUE(server.child->waitForStderr(line, 10s)) << server.child->err();
  EXPECT_GE(SteadyClock::now() - start, 500ms) << "dropped before its timeout";
  EXPECT_EQ(linesWith(server.child->err(), "dropped").size(), 1u)
      << "only the stalled client is dropped:\n"
      << server.child->err();

  // Reading now, the stalled client finds what the kernels held, then the end: a prefix of the
  // poem, cut short.
  EXPECT_TRUE(stalled.readUntilClosed(10s));
  EXPECT_LT(stalled.received().size(), poem.text().size());
  EXPECT_EQ(poem.text().compare(0, stalled.received().size(), stalled.received()), 0);

  // And the server still serves.
  RawClient after(server.port);
  EXPECT_TRUE(after.readUntilClosed(10s));
  EXPECT_EQ(after.received().size(), poem.text().size());
  expectCleanStop(server);
}

}  // namespace
