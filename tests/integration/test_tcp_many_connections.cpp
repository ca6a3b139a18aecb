// Many connections at once on one reactor: each echoes its own payload intact.
#include "support.hpp"

namespace spindle::test {
namespace {

TEST(TcpManyConnections, EveryClientGetsItsOwnPayloadBack) {
  constexpr int kClients = 64;
  constexpr size_t kSize = 64 << 10;
  Reactor reactor;
  armWatchdog(reactor, 20);
  auto server = std::make_shared<TestServerFactory>();
  server->hooks.data = [](Recorder& p, std::string_view data) {
    p.transport->write(data);
    if (p.rec->data.size() == kSize) p.transport->loseConnection();
  };
  auto port = reactor.listenTCP(0, server, 4 * kClients, "127.0.0.1");
  std::vector<std::shared_ptr<TestClientFactory>> clients;
  int done = 0;
  for (int i = 0; i < kClients; ++i) {
    auto c = std::make_shared<TestClientFactory>();
    std::string payload = makePayload(kSize, static_cast<unsigned>(i + 1));
    c->hooks.made = [payload](Recorder& p) {
      // Two pieces, so the server sees them split and joined in arbitrary ways.
      p.transport->write(std::string_view(payload).substr(0, kSize / 3));
      p.transport->write(std::string_view(payload).substr(kSize / 3));
    };
    c->hooks.lost = [&](Recorder&, const Failure&) {
      if (++done == kClients) reactor.stop();
    };
    connectTo(reactor, *port, c);
    clients.push_back(c);
  }
  reactor.run();
  EXPECT_EQ(done, kClients);
  EXPECT_EQ(server->rec->conns.size(), static_cast<size_t>(kClients));
  for (int i = 0; i < kClients; ++i) {
    ASSERT_EQ(clients[i]->rec->conns.size(), 1u) << "client " << i;
    auto& rec = *clients[i]->rec->conns[0];
    EXPECT_TRUE(rec.data == makePayload(kSize, static_cast<unsigned>(i + 1)))
        << "client " << i << " got " << rec.data.size() << " bytes, or the wrong ones";
    ASSERT_TRUE(rec.reason);
    EXPECT_TRUE(rec.reason->check<ConnectionDone>()) << rec.reason->toString();
  }
}

}  // namespace
}  // namespace spindle::test
