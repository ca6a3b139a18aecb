// Writing to a peer that has gone never raises SIGPIPE, with SIGPIPE at its default disposition
// (which would kill the process), and spindle leaves that disposition alone.
#include <signal.h>

#include "support.hpp"

namespace spindle::test {
namespace {

/// Puts SIGPIPE at SIG_DFL and unblocked for the test, and restores what was there.
class DefaultSigpipe {
 public:
  DefaultSigpipe() {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ::sigaction(SIGPIPE, &dfl, &previous_);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    ::pthread_sigmask(SIG_UNBLOCK, &set, &previousMask_);
  }
  ~DefaultSigpipe() {
    ::sigaction(SIGPIPE, &previous_, nullptr);
    ::pthread_sigmask(SIG_SETMASK, &previousMask_, nullptr);
  }
  static bool stillDefault() {
    struct sigaction now {};
    ::sigaction(SIGPIPE, nullptr, &now);
    return now.sa_handler == SIG_DFL;
  }

 private:
  struct sigaction previous_ {};
  sigset_t previousMask_{};
};

TEST(Sigpipe, WritingAfterThePeerResetNeverRaisesSigpipe) {
  DefaultSigpipe guard;
  Reactor reactor;
  armWatchdog(reactor);
  auto server = std::make_shared<TestServerFactory>();
  auto port = listenLocal(reactor, server);
  Fd raw = rawConnect(port->getHost().port());
  ASSERT_TRUE(raw);
  const std::string chunk = makePayload(1 << 20);
  server->hooks.made = [&](Recorder& p) {
    raw.closeWithReset();  // on loopback the RST has arrived when close() returns
    for (int i = 0; i < 16; ++i)
      p.transport->write(chunk);
    // And keep writing from later steps while the connection lasts.
    auto rec = p.rec;
    reactor.callLater(0, [&, rec] {
      if (rec->transport) rec->transport->write(chunk);
    });
  };
  server->hooks.lost = [&](Recorder&, const Failure&) { reactor.stop(); };
  reactor.run();
  ASSERT_EQ(server->rec->conns.size(), 1u);
  auto& c = *server->rec->conns[0];
  ASSERT_TRUE(c.reason);
  EXPECT_TRUE(c.reason->check<ConnectionLost>()) << c.reason->toString();
  EXPECT_TRUE(DefaultSigpipe::stillDefault()) << "spindle changed the SIGPIPE disposition";
}

TEST(Sigpipe, PeerClosingWithUnreadDataWhileWeWriteABigBuffer) {
  // The peer closes without reading: the kernel resets the connection because data was unread,
  // while our side still has megabytes buffered to send.
  DefaultSigpipe guard;
  Reactor reactor;
  armWatchdog(reactor);
  auto server = std::make_shared<TestServerFactory>();
  auto port = listenLocal(reactor, server);
  Fd raw = rawConnect(port->getHost().port());
  ASSERT_TRUE(raw);
  const std::string payload = makePayload(32 << 20);
  server->hooks.made = [&](Recorder& p) {
    p.transport->write(payload);
    reactor.callLater(0, [&] { raw.close(); });
  };
  server->hooks.lost = [&](Recorder&, const Failure&) { reactor.stop(); };
  reactor.run();
  ASSERT_EQ(server->rec->conns.size(), 1u);
  auto& c = *server->rec->conns[0];
  ASSERT_TRUE(c.reason);
  EXPECT_TRUE(c.reason->check<ConnectionLost>()) << c.reason->toString();
  EXPECT_TRUE(DefaultSigpipe::stillDefault());
}

TEST(Sigpipe, ClientWritingToAServerThatWentAway) {
  // Both ends are spindle's: the server aborts, the client goes on writing a lot.
  DefaultSigpipe guard;
  Reactor reactor;
  armWatchdog(reactor);
  auto server = std::make_shared<TestServerFactory>();
  auto client = std::make_shared<TestClientFactory>();
  const std::string chunk = makePayload(1 << 20);
  server->hooks.data = [](Recorder& p, std::string_view) { p.transport->abortConnection(); };
  int writes = 0;
  std::function<void(std::shared_ptr<ConnRecord>)> pump = [&](std::shared_ptr<ConnRecord> rec) {
    if (!rec->transport || ++writes > 64) return;
    rec->transport->write(chunk);
    reactor.callLater(0.001, [&pump, rec] { pump(rec); });
  };
  client->hooks.made = [&](Recorder& p) { pump(p.rec); };
  client->hooks.lost = [&](Recorder&, const Failure&) { reactor.stop(); };
  auto port = listenLocal(reactor, server);
  auto connector = connectTo(reactor, *port, client);
  reactor.run();
  ASSERT_EQ(client->rec->conns.size(), 1u);
  auto& c = *client->rec->conns[0];
  ASSERT_TRUE(c.reason);
  EXPECT_TRUE(c.reason->check<ConnectionLost>()) << c.reason->toString();
  EXPECT_TRUE(DefaultSigpipe::stillDefault());
}

}  // namespace
}  // namespace spindle::test
