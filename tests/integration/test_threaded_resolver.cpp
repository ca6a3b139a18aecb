// ThreadedResolver: lookups run on worker threads and their results come back on the reactor's
// thread. These are the resolver's only tests with real threads, so the ThreadSanitizer build
// (make test-sanitize) watches the pool's hand-offs here. Only "localhost" and IP literals are
// looked up: both resolve from /etc/hosts or the literal itself, never over the network.
#include <algorithm>
#include <thread>
#include <vector>

#include "support.hpp"

namespace spindle::test {
namespace {

bool hasLoopback(const ResolveResult& r) {
  return std::any_of(r.addresses.begin(), r.addresses.end(),
                     [](const Address& a) { return a.host() == "127.0.0.1" || a.host() == "::1"; });
}

TEST(ThreadedResolver, ResultArrivesOnTheReactorThread) {
  Reactor reactor;
  armWatchdog(reactor, 20);
  const auto reactorThread = std::this_thread::get_id();
  std::thread::id ranOn;
  ResolveResult result;
  reactor.callWhenRunning([&] {
    reactor.resolver().resolveHostName("localhost", 80, [&](ResolveResult r) {
      ranOn = std::this_thread::get_id();
      result = std::move(r);
      reactor.stop();
    });
  });
  reactor.run();
  EXPECT_EQ(ranOn, reactorThread);
  EXPECT_TRUE(result.error.empty()) << result.error;
  EXPECT_TRUE(hasLoopback(result));
  for (const auto& a : result.addresses)
    EXPECT_EQ(a.port(), 80);
}

TEST(ThreadedResolver, MoreLookupsThanThreadsEachAnswerOnce) {
  // Twelve lookups on a pool of three: threads are started, reused and left idle.
  constexpr int kLookups = 12;
  Reactor reactor;
  auto resolver = std::make_shared<ThreadedResolver>(reactor, 3);
  reactor.installResolver(resolver);
  armWatchdog(reactor, 20);
  std::vector<int> answers(kLookups, 0);
  int done = 0, failed = 0;
  reactor.callWhenRunning([&] {
    for (int i = 0; i < kLookups; ++i) {
      const char* host = i % 2 ? "localhost" : "127.0.0.1";
      resolver->resolveHostName(host, static_cast<uint16_t>(1000 + i), [&, i](ResolveResult r) {
        ++answers[i];
        if (!hasLoopback(r)) ++failed;
        if (++done == kLookups) reactor.stop();
      });
    }
  });
  reactor.run();
  EXPECT_EQ(done, kLookups);
  EXPECT_EQ(failed, 0);
  for (int i = 0; i < kLookups; ++i)
    EXPECT_EQ(answers[i], 1) << "lookup " << i;
}

TEST(ThreadedResolver, ConnectTcpByNameConnects) {
  Reactor reactor;
  armWatchdog(reactor, 20);
  auto server = std::make_shared<TestServerFactory>();
  auto port = reactor.listenTCP(0, server, 50, "127.0.0.1");
  auto client = std::make_shared<TestClientFactory>();
  client->hooks.made = [&](Recorder&) { reactor.stop(); };
  reactor.connectTCP("localhost", port->getHost().port(), client);
  reactor.run();
  ASSERT_EQ(client->rec->conns.size(), 1u);
  EXPECT_TRUE(client->rec->conns[0]->made);
}

TEST(ThreadedResolver, ReactorDestroyedWithLookupsUnderWay) {
  // The reactor never runs: its destructor waits for the lookups, whose results are dropped.
  int answered = 0;
  {
    Reactor reactor;
    for (int i = 0; i < 8; ++i)
      reactor.resolver().resolveHostName("localhost", 80, [&](ResolveResult) { ++answered; });
  }
  EXPECT_EQ(answered, 0);
}

}  // namespace
}  // namespace spindle::test
