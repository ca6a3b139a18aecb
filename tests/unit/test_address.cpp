// Address and HostPort: parsing IP literals, printing, equality.
#include <arpa/inet.h>

#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "spindle/address.hpp"

namespace spindle {
namespace {

TEST(Address, FromIpV4) {
  auto a = Address::fromIp("127.0.0.1", 10000);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->valid());
  EXPECT_FALSE(a->isIPv6());
  EXPECT_EQ(a->family(), AF_INET);
  EXPECT_EQ(a->host(), "127.0.0.1");
  EXPECT_EQ(a->port(), 10000);
  EXPECT_EQ(a->toString(), "127.0.0.1:10000");
  EXPECT_EQ(a->sockaddrLen(), sizeof(sockaddr_in));
  EXPECT_EQ(a->sockaddrPtr()->sa_family, AF_INET);
}

TEST(Address, FromIpV6) {
  auto a = Address::fromIp("::1", 10000);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->valid());
  EXPECT_TRUE(a->isIPv6());
  EXPECT_EQ(a->family(), AF_INET6);
  EXPECT_EQ(a->host(), "::1");
  EXPECT_EQ(a->port(), 10000);
  EXPECT_EQ(a->toString(), "[::1]:10000");
  EXPECT_EQ(a->sockaddrLen(), sizeof(sockaddr_in6));
}

TEST(Address, FromIpV6Bracketed) {
  auto a = Address::fromIp("[::1]", 10000);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->isIPv6());
  EXPECT_EQ(a->host(), "::1");
  EXPECT_EQ(a->toString(), "[::1]:10000");
  EXPECT_EQ(*a, *Address::fromIp("::1", 10000));
}

TEST(Address, FromIpV6IsPrintedCanonically) {
  auto a = Address::fromIp("0:0:0:0:0:0:0:1", 80);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->toString(), "[::1]:80");
  auto b = Address::fromIp("2001:db8::7", 443);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->toString(), "[2001:db8::7]:443");
}

TEST(Address, FromIpRejectsWhatIsNotAnIpLiteral) {
  for (const char* bad : {"localhost", "example.com", "256.0.0.1", "1.2.3", "1.2.3.4.5", "abc",
                          "[::1", "::1]", "[]", "::g", " 127.0.0.1", "127.0.0.1 "}) {
    EXPECT_FALSE(Address::fromIp(bad, 80)) << '"' << bad << '"';
  }
}

// Found by fuzz/poetry_address: "[::\0junk]:80" was accepted by get-poetry as host "::\0junk".
TEST(Address, FromIpRejectsAnEmbeddedNul) {
  using namespace std::string_view_literals;
  for (std::string_view bad : {"127.0.0.1\0junk"sv, "::1\0junk"sv, "[::1\0]"sv, "::\0"sv, "\0"sv}) {
    EXPECT_FALSE(Address::fromIp(bad, 80)) << '"' << bad << '"';
    EXPECT_FALSE(spindle::isIPAddress(bad));
  }
}

TEST(Address, EmptyHostIsTheIPv4Wildcard) {
  auto a = Address::fromIp("", 8080);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->isIPv6());
  EXPECT_EQ(a->host(), "0.0.0.0");
  EXPECT_EQ(a->toString(), "0.0.0.0:8080");
}

TEST(Address, DefaultIsEmpty) {
  Address a;
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(a.toString(), "<none>");
  EXPECT_EQ(a, Address());
  EXPECT_NE(a, *Address::fromIp("0.0.0.0", 0));
}

TEST(Address, Equality) {
  auto a = *Address::fromIp("127.0.0.1", 1000);
  EXPECT_EQ(a, *Address::fromIp("127.0.0.1", 1000));
  EXPECT_NE(a, *Address::fromIp("127.0.0.1", 1001));
  EXPECT_NE(a, *Address::fromIp("127.0.0.2", 1000));
  EXPECT_NE(a, *Address::fromIp("::1", 1000));
  EXPECT_NE(*Address::fromIp("::1", 1000), *Address::fromIp("::2", 1000));
  Address copy = a;
  EXPECT_EQ(copy, a);
}

TEST(Address, FromSockaddrRoundTrips) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(4321);
  ::inet_pton(AF_INET, "10.1.2.3", &sa.sin_addr);
  auto a = Address::fromSockaddr(reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  EXPECT_EQ(a, *Address::fromIp("10.1.2.3", 4321));
  EXPECT_EQ(a.toString(), "10.1.2.3:4321");

  sockaddr_in6 sa6{};
  sa6.sin6_family = AF_INET6;
  sa6.sin6_port = htons(4321);
  sa6.sin6_addr = in6addr_loopback;
  auto b = Address::fromSockaddr(reinterpret_cast<sockaddr*>(&sa6), sizeof sa6);
  EXPECT_EQ(b, *Address::fromIp("::1", 4321));

  // And back: the sockaddr an Address gives is the one it was made from.
  auto c = Address::fromSockaddr(b.sockaddrPtr(), b.sockaddrLen());
  EXPECT_EQ(c, b);
}

TEST(Address, StreamsAndFormatsAsToString) {
  auto a = *Address::fromIp("::1", 10000);
  std::ostringstream os;
  os << a;
  EXPECT_EQ(os.str(), "[::1]:10000");
  EXPECT_EQ(fmt::format("{}", a), "[::1]:10000");
  EXPECT_EQ(fmt::format("{}", *Address::fromIp("127.0.0.1", 1)), "127.0.0.1:1");
}

TEST(HostPort, ToString) {
  EXPECT_EQ((HostPort{"example.com", 80}.toString()), "example.com:80");
  EXPECT_EQ((HostPort{"127.0.0.1", 10000}.toString()), "127.0.0.1:10000");
  EXPECT_EQ((HostPort{"::1", 10000}.toString()), "[::1]:10000");
  EXPECT_EQ(fmt::format("{}", HostPort{"::1", 1}), "[::1]:1");
  std::ostringstream os;
  os << HostPort{"host", 7};
  EXPECT_EQ(os.str(), "host:7");
}

TEST(HostPort, Equality) {
  EXPECT_EQ((HostPort{"a", 1}), (HostPort{"a", 1}));
  EXPECT_NE((HostPort{"a", 1}), (HostPort{"a", 2}));
  EXPECT_NE((HostPort{"a", 1}), (HostPort{"b", 1}));
}

TEST(IsIPAddress, LiteralsAndNames) {
  EXPECT_TRUE(isIPAddress("127.0.0.1"));
  EXPECT_TRUE(isIPAddress("::1"));
  EXPECT_TRUE(isIPAddress("2001:db8::1"));
  EXPECT_FALSE(isIPAddress("localhost"));
  EXPECT_FALSE(isIPAddress("example.com"));
  EXPECT_FALSE(isIPAddress("1.2.3"));
  EXPECT_FALSE(isIPAddress("300.1.1.1"));
}

}  // namespace
}  // namespace spindle
