// The test doubles themselves: StringTransport records what a protocol does, FakeResolver
// answers from its table, synchronously.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "spindle/failure.hpp"
#include "spindle/testing.hpp"

namespace spindle {
namespace {

using testing::FakeResolver;
using testing::StringTransport;

class Echo : public Protocol {
 public:
  void dataReceived(std::string_view data) override {
    transport->write(data);
    if (data == "bye") transport->loseConnection();
  }
};

TEST(StringTransport, RecordsWritesInOrder) {
  StringTransport t;
  t.write("ab");
  std::string_view parts[] = {"c", "", "de"};
  t.writeSequence(std::span<const std::string_view>(parts));
  t.writeSequence({"f", "g"});
  t.write("");
  EXPECT_EQ(t.value(), "abcdefg");
  t.clear();
  EXPECT_EQ(t.value(), "");
  t.write("h");
  EXPECT_EQ(t.value(), "h");
}

TEST(StringTransport, DefaultAddresses) {
  StringTransport t;
  EXPECT_EQ(t.getHost().toString(), "127.0.0.1:10000");
  EXPECT_EQ(t.getPeer().toString(), "192.0.2.1:1234");
  StringTransport u(*Address::fromIp("::1", 1), *Address::fromIp("::1", 2));
  EXPECT_EQ(u.getHost().toString(), "[::1]:1");
  EXPECT_EQ(u.getPeer().toString(), "[::1]:2");
}

TEST(StringTransport, LoseAndAbortAreRecorded) {
  StringTransport t;
  EXPECT_FALSE(t.disconnecting());
  t.loseConnection();
  EXPECT_TRUE(t.disconnecting());
  EXPECT_FALSE(t.aborted());
  StringTransport u;
  u.abortConnection();
  EXPECT_TRUE(u.disconnecting());
  EXPECT_TRUE(u.aborted());
}

TEST(StringTransport, ProducerStateAndOptions) {
  StringTransport t;
  EXPECT_EQ(t.producerState, "producing");
  t.pauseProducing();
  EXPECT_EQ(t.producerState, "paused");
  t.resumeProducing();
  EXPECT_EQ(t.producerState, "producing");
  t.stopProducing();
  EXPECT_EQ(t.producerState, "stopped");
  t.setTcpNoDelay(true);
  EXPECT_TRUE(t.getTcpNoDelay());
  t.setTcpNoDelay(false);
  EXPECT_FALSE(t.getTcpNoDelay());
  t.setTcpKeepAlive(true);
  EXPECT_TRUE(t.getTcpKeepAlive());
  EXPECT_EQ(t.bufferedSize(), 0u);
}

TEST(StringTransport, DrivesAProtocol) {
  Echo p;
  StringTransport t;
  testing::connect(p, t);
  EXPECT_EQ(p.transport, &t);
  p.dataReceived("hello");
  EXPECT_EQ(t.value(), "hello");
  EXPECT_FALSE(t.disconnecting());
  p.dataReceived("bye");
  EXPECT_EQ(t.value(), "hellobye");
  EXPECT_TRUE(t.disconnecting());
  p.connectionLost(Failure(ConnectionDone()));
}

TEST(FakeResolver, AnswersFromItsTableWithTheRequestedPort) {
  FakeResolver r;
  r.add("server.test", {*Address::fromIp("127.0.0.1", 0), *Address::fromIp("::1", 9)});
  std::optional<ResolveResult> got;
  r.resolveHostName("server.test", 8080, [&](ResolveResult res) { got = std::move(res); });
  ASSERT_TRUE(got) << "answers synchronously";
  EXPECT_TRUE(got->error.empty());
  ASSERT_EQ(got->addresses.size(), 2u);
  EXPECT_EQ(got->addresses[0], *Address::fromIp("127.0.0.1", 8080));
  EXPECT_EQ(got->addresses[1], *Address::fromIp("::1", 8080));
}

TEST(FakeResolver, UnknownNamesFail) {
  FakeResolver r;
  std::optional<ResolveResult> got;
  r.resolveHostName("nowhere.test", 80, [&](ResolveResult res) { got = std::move(res); });
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->addresses.empty());
  EXPECT_FALSE(got->error.empty());
}

TEST(FakeResolver, RecordsLookupsInOrder) {
  FakeResolver r;
  r.add("a.test", {*Address::fromIp("127.0.0.1", 0)});
  int calls = 0;
  r.resolveHostName("a.test", 1, [&](ResolveResult) { ++calls; });
  r.resolveHostName("b.test", 1, [&](ResolveResult) { ++calls; });
  r.resolveHostName("a.test", 2, [&](ResolveResult) { ++calls; });
  EXPECT_EQ(calls, 3) << "done is called exactly once per lookup";
  EXPECT_EQ(r.lookups(), (std::vector<std::string>{"a.test", "b.test", "a.test"}));
}

}  // namespace
}  // namespace spindle
