// Injected failures that end connections or attempts: a reset on a read or on a write, a
// refused or interrupted connect, and accepts that fail for a while. Each checks the reason
// delivered and that nothing leaks.
#include "fault_support.hpp"

namespace spindle::test {
namespace {

using fault::on;

/// A server and client of Recorders on a fresh reactor, with the leak baseline taken once the
/// port listens. Set hooks and a plan, then run().
class FaultEndings : public ::testing::Test {
 protected:
  void SetUp() override {
    armWatchdog(reactor, 20);
    port = listenLocal(reactor, server);
    baseline = LeakBaseline();
  }

  /// Connects `clients` clients and runs until every connection has ended at both ends and the
  /// leak check after that.
  void run(int clients = 1) {
    const int losses = 2 * clients;
    for (Hooks* h : {&server->hooks, &client->hooks}) {
      auto previous = h->lost;
      h->lost = [this, previous, losses](Recorder& p, const Failure& reason) {
        if (previous) previous(p, reason);
        if (++losses_ == losses) checkLeaksAndStop();
      };
    }
    for (int i = 0; i < clients; ++i)
      connectors.push_back(connectTo(reactor, *port, client));
    reactor.run();
  }

  void checkLeaksAndStop() {
    reactor.callLater(0, [this] {
      baseline.expectNothingLeaked();
      stopIfRunning(reactor);
    });
  }

  ConnRecord& serverConn() { return *server->rec->conns.at(0); }
  ConnRecord& clientConn() { return *client->rec->conns.at(0); }

  Reactor reactor;
  std::shared_ptr<TestServerFactory> server = std::make_shared<TestServerFactory>();
  std::shared_ptr<TestClientFactory> client = std::make_shared<TestClientFactory>();
  std::shared_ptr<ListeningPort> port;
  std::vector<std::shared_ptr<Connector>> connectors;
  LeakBaseline baseline;

 private:
  int losses_ = 0;
};

void expectReset(const ConnRecord& c, const char* who) {
  ASSERT_TRUE(c.reason) << who;
  EXPECT_TRUE(c.reason->check<ConnectionLost>()) << who << ": " << c.reason->toString();
  EXPECT_EQ(c.reason->code().value(), ECONNRESET) << who << ": " << c.reason->toString();
  EXPECT_EQ(c.lostCount, 1) << who;
}

/// The client streams `bytes` to the server, which only reads.
void stream(Hooks& clientHooks, std::size_t bytes) {
  clientHooks.made = [bytes](Recorder& p) {
    const std::string chunk = makePayload(64 << 10, 13);
    for (std::size_t sent = 0; sent < bytes; sent += chunk.size())
      p.transport->write(chunk);
    p.transport->loseConnection();
  };
}

TEST_F(FaultEndings, ResetOnAReadGivesConnectionLost) {
  // Only the server reads while the client streams, so the 20th recv is the server's.
  fault::Scope plan({on(Call::Recv).nth(20).fail(ECONNRESET)});
  stream(client->hooks, 32 << 20);
  run();
  EXPECT_EQ(fault::injected(Call::Recv), 1u);
  expectReset(serverConn(), "server");
  EXPECT_FALSE(serverConn().data.empty());
  ASSERT_TRUE(clientConn().reason);
  EXPECT_TRUE(clientConn().reason->check<ConnectionClosed>()) << clientConn().reason->toString();
}

TEST_F(FaultEndings, ResetOnAWriteGivesConnectionLost) {
  // Only the client sends, so the 10th send is the client's; the server then reads the end of
  // a stream that was closed cleanly from its side of the wire.
  fault::Scope plan({on(Call::Send).nth(10).fail(ECONNRESET)});
  stream(client->hooks, 32 << 20);
  run();
  EXPECT_EQ(fault::injected(Call::Send), 1u);
  expectReset(clientConn(), "client");
  ASSERT_TRUE(serverConn().reason);
  EXPECT_TRUE(serverConn().reason->check<ConnectionDone>()) << serverConn().reason->toString();
}

TEST_F(FaultEndings, ResetOnAWriteSequenceGivesConnectionLost) {
  fault::Scope plan({on(Call::Sendmsg).nth(1).fail(ECONNRESET)});
  client->hooks.made = [](Recorder& p) { p.transport->writeSequence({"a", "b", "c"}); };
  run();
  expectReset(clientConn(), "client");
  EXPECT_EQ(serverConn().data, "");
}

TEST_F(FaultEndings, RefusedConnectFailsTheAttempt) {
  fault::Scope plan({on(Call::Connect).fail(ECONNREFUSED)});
  client->onFailed = [this](Connector&, const Failure&) { checkLeaksAndStop(); };
  connectors.push_back(connectTo(reactor, *port, client));
  reactor.run();
  ASSERT_EQ(client->rec->failed.size(), 1u);
  EXPECT_TRUE(client->rec->failed[0].check<ConnectionRefusedError>())
      << client->rec->failed[0].toString();
  EXPECT_TRUE(client->rec->conns.empty());
}

TEST_F(FaultEndings, InterruptedConnectStillConnects) {
  // POSIX: an interrupted connect goes on in the background. Retrying it would fail with
  // EALREADY; the attempt must wait for it instead.
  fault::Scope plan({on(Call::Connect).fail(EINTR)});
  server->hooks.data = [](Recorder& p, std::string_view d) {
    p.transport->write(d);
    p.transport->loseConnection();
  };
  client->hooks.made = [](Recorder& p) { p.transport->write("ping"); };
  run();
  EXPECT_EQ(fault::injected(Call::Connect), 1u);
  EXPECT_TRUE(client->rec->failed.empty());
  EXPECT_EQ(clientConn().data, "ping");
}

TEST_F(FaultEndings, AcceptsThatFailForAWhileLoseNoConnection) {
  constexpr int kClients = 4;
  fault::Scope plan({on(Call::Accept).nth(1).fail(EINTR),
                     on(Call::Accept).nth(2).fail(ECONNABORTED),
                     on(Call::Accept).nth(3).fail(EAGAIN), on(Call::Accept).nth(4).fail(EPROTO),
                     on(Call::Accept).nth(5).fail(EAGAIN)});
  server->hooks.data = [](Recorder& p, std::string_view d) {
    p.transport->write(d);
    p.transport->loseConnection();
  };
  client->hooks.made = [](Recorder& p) { p.transport->write("hello"); };
  run(kClients);
  EXPECT_EQ(fault::injected(Call::Accept), 5u);
  ASSERT_EQ(client->rec->conns.size(), std::size_t(kClients));
  for (const auto& c : client->rec->conns) {
    EXPECT_EQ(c->data, "hello");
    ASSERT_TRUE(c->reason);
    EXPECT_TRUE(c->reason->check<ConnectionDone>()) << c->reason->toString();
  }
}

}  // namespace
}  // namespace spindle::test
