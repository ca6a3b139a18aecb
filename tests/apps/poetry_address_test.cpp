// get-poetry's address parser: every accepted form and every rejected one.
#include <gtest/gtest.h>

#include "poetry.hpp"

namespace {

using poetry::AddressError;
using poetry::parseAddress;
using poetry::parsePort;
using spindle::HostPort;

TEST(PoetryAddress, BarePortMeansLocalhost) {
  EXPECT_EQ(parseAddress("10000"), (HostPort{"127.0.0.1", 10000}));
  EXPECT_EQ(parseAddress("1"), (HostPort{"127.0.0.1", 1}));
  EXPECT_EQ(parseAddress("65535"), (HostPort{"127.0.0.1", 65535}));
}

TEST(PoetryAddress, HostAndPort) {
  EXPECT_EQ(parseAddress("127.0.0.1:10001"), (HostPort{"127.0.0.1", 10001}));
  EXPECT_EQ(parseAddress("localhost:80"), (HostPort{"localhost", 80}));
  EXPECT_EQ(parseAddress("poetry.example.com:10000"), (HostPort{"poetry.example.com", 10000}));
}

TEST(PoetryAddress, BracketedIPv6) {
  EXPECT_EQ(parseAddress("[::1]:10000"), (HostPort{"::1", 10000}));
  EXPECT_EQ(parseAddress("[2001:db8::7]:443"), (HostPort{"2001:db8::7", 443}));
  EXPECT_EQ(parseAddress("[::ffff:127.0.0.1]:8"), (HostPort{"::ffff:127.0.0.1", 8}));
}

TEST(PoetryAddress, LeadingZerosAreDigitsToo) {
  EXPECT_EQ(parseAddress("00080"), (HostPort{"127.0.0.1", 80}));
}

TEST(PoetryAddress, RejectsBadPorts) {
  for (const char* text :
       {"",        "abc",       "0",     "00",       "65536",  "99999999999999999999999",
        "-1",      "+80",       " 80",   "80 ",      "8 0",    "0x50",
        "80.0",    "localhost", "host:", "host:abc", "host:0", "host:65536",
        "host:-1", "1.2.3.4:0"}) {
    EXPECT_THROW(parseAddress(text), AddressError) << "'" << text << "'";
  }
}

TEST(PoetryAddress, RejectsBadHosts) {
  for (const char* text : {":80", "ho st:80", "host/x:80", "a]:80", "a[:80", "\t:80"}) {
    EXPECT_THROW(parseAddress(text), AddressError) << "'" << text << "'";
  }
}

TEST(PoetryAddress, RejectsUnbracketedIPv6AndExtraColons) {
  for (const char* text : {"::1:80", "::1", "a:b:c", "2001:db8::1:443", "host:80:"}) {
    EXPECT_THROW(parseAddress(text), AddressError) << "'" << text << "'";
  }
}

TEST(PoetryAddress, RejectsMalformedBrackets) {
  for (const char* text : {"[::1]", "[::1]:", "[::1]80", "[::1", "[::1]:x", "[::1]:0", "[]:80",
                           "[127.0.0.1]:80", "[example.com]:80", "[::1]:80:", "[::zz]:80"}) {
    EXPECT_THROW(parseAddress(text), AddressError) << "'" << text << "'";
  }
}

TEST(PoetryAddress, ErrorsSayWhatIsWrong) {
  try {
    parseAddress("host:abc");
    FAIL() << "no exception";
  } catch (const AddressError& e) {
    EXPECT_NE(std::string(e.what()).find("abc"), std::string::npos) << e.what();
  }
  try {
    parseAddress("::1:80");
    FAIL() << "no exception";
  } catch (const AddressError& e) {
    EXPECT_NE(std::string(e.what()).find("[ADDRESS]:PORT"), std::string::npos) << e.what();
  }
}

TEST(PoetryAddress, ParsePort) {
  EXPECT_EQ(parsePort("1"), 1);
  EXPECT_EQ(parsePort("65535"), 65535);
  EXPECT_EQ(parsePort("0"), std::nullopt);
  EXPECT_EQ(parsePort("65536"), std::nullopt);
  EXPECT_EQ(parsePort(""), std::nullopt);
  EXPECT_EQ(parsePort("1e3"), std::nullopt);
  EXPECT_EQ(parsePort("18446744073709551617"), std::nullopt);
}

}  // namespace
