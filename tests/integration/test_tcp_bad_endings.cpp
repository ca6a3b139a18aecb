// Connections that end badly: a peer that resets mid-stream, a reset or refusal while
// connecting, writes after the peer has gone, a peer that stops reading and then vanishes. Each
// test checks the reason that reaches connectionLost (or clientConnectionFailed), and that
// nothing leaks: every descriptor is closed and every transport and protocol freed.
#include <signal.h>
#include <sys/ioctl.h>

#include <cerrno>

#include "leak_check.hpp"

namespace spindle::test {
namespace {

/// Puts SIGPIPE at its default disposition (which kills the process) for the test's lifetime.
class DefaultSigpipe {
 public:
  DefaultSigpipe() {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ::sigaction(SIGPIPE, &dfl, &previous_);
  }
  ~DefaultSigpipe() { ::sigaction(SIGPIPE, &previous_, nullptr); }

 private:
  struct sigaction previous_ {};
};

/// A server on a fresh reactor whose peers are raw sockets the test drives.
class BadEndings : public ::testing::Test {
 protected:
  void SetUp() override {
    armWatchdog(reactor, 20);
    port = listenLocal(reactor, server);
    baseline = LeakBaseline();
  }

  /// From the end of the step that delivered the last connectionLost: checks for leaks, stops.
  void checkLeaksAndStop() {
    reactor.callLater(0, [this] {
      baseline.expectNothingLeaked();
      stopIfRunning(reactor);
    });
  }

  const ConnRecord& only(const FactoryRecord& f) {
    if (f.conns.size() != 1) throw std::runtime_error("expected exactly one connection");
    return *f.conns[0];
  }

  Reactor reactor;
  std::shared_ptr<TestServerFactory> server = std::make_shared<TestServerFactory>();
  std::shared_ptr<TestClientFactory> client = std::make_shared<TestClientFactory>();
  std::shared_ptr<ListeningPort> port;
  LeakBaseline baseline;  // taken again once listening, before any connection
};

void expectLostWith(const ConnRecord& c, std::initializer_list<int> codes) {
  ASSERT_TRUE(c.reason);
  const Failure& r = *c.reason;
  EXPECT_TRUE(r.check<ConnectionLost>()) << r.toString();
  EXPECT_FALSE(r.check<ConnectionAborted>()) << "the peer ended it, not us: " << r.toString();
  EXPECT_NE(std::find(codes.begin(), codes.end(), r.code().value()), codes.end()) << r.toString();
  EXPECT_EQ(c.lostCount, 1);
  EXPECT_FALSE(c.dataAfterLost);
}

TEST_F(BadEndings, PeerResetWhileItStreamsToUs) {
  // The peer sends, we read some of it, and it resets mid-stream. Bytes it sent before the reset
  // may still be read; then the read fails with ECONNRESET (never a clean end of stream).
  Fd raw = rawConnect(port->getHost().port());
  ASSERT_TRUE(raw);
  const std::string sent = makePayload(64 << 10, 9);
  ASSERT_EQ(::send(raw.get(), sent.data(), sent.size(), MSG_NOSIGNAL), ssize_t(sent.size()));
  server->hooks.data = [&](Recorder&, std::string_view) {
    raw.closeWithReset();  // on loopback the RST has arrived when close() returns
  };
  server->hooks.lost = [&](Recorder&, const Failure&) { checkLeaksAndStop(); };
  reactor.run();
  const ConnRecord& c = only(*server->rec);
  expectLostWith(c, {ECONNRESET});
  EXPECT_FALSE(c.data.empty()) << "the reset was to come mid-stream";
  EXPECT_EQ(sent.compare(0, c.data.size(), c.data), 0)
      << "what arrived is a prefix of what was sent";
}

TEST_F(BadEndings, PeerResetWhileWeStreamToIt) {
  // We have megabytes buffered for a peer that reads a little and resets. Reading or writing,
  // whichever notices first, sees ECONNRESET.
  Fd raw = rawConnect(port->getHost().port());
  ASSERT_TRUE(raw);
  const std::string payload = makePayload(16 << 20, 10);
  std::size_t buffered = 0;
  server->hooks.made = [&](Recorder& p) {
    p.transport->write(payload);
    buffered = p.transport->bufferedSize();
    reactor.callLater(0, [&] {
      char buf[4096];
      EXPECT_GT(::recv(raw.get(), buf, sizeof buf, 0), 0);
      raw.closeWithReset();
    });
  };
  server->hooks.lost = [&](Recorder&, const Failure&) { checkLeaksAndStop(); };
  reactor.run();
  EXPECT_GT(buffered, 0u) << "the kernel took 16 MiB at once: the test proves nothing";
  expectLostWith(only(*server->rec), {ECONNRESET, EPIPE});
}

TEST_F(BadEndings, WritesAfterThePeerClosedGiveEpipeWithoutSigpipe) {
  // The peer closes cleanly while we are not reading (paused), so we miss its FIN; our next
  // write draws a RST, and the one after fails with EPIPE: ConnectionLost, and no SIGPIPE.
  DefaultSigpipe guard;
  Fd raw = rawConnect(port->getHost().port());
  ASSERT_TRUE(raw);
  int writes = 0;
  std::function<void()> keepWriting = [&] {
    const ConnRecord& c = only(*server->rec);
    if (c.lostCount > 0 || ++writes > 100) return;  // bounded; then the watchdog reports it
    c.transport->write("are you there?");
    reactor.callLater(0, keepWriting);
  };
  server->hooks.made = [&](Recorder& p) {
    p.transport->pauseProducing();
    raw.close();
    keepWriting();
  };
  server->hooks.lost = [&](Recorder&, const Failure&) { checkLeaksAndStop(); };
  reactor.run();
  expectLostWith(only(*server->rec), {EPIPE, ECONNRESET});
}

/// A streaming producer that writes until it is paused, then makes the peer vanish.
struct Flooder : Producer {
  Transport* transport = nullptr;
  std::function<void()> onPaused;
  int pauses = 0, stops = 0;
  void pauseProducing() override {
    if (pauses++ == 0 && onPaused) onPaused();
  }
  void resumeProducing() override {}
  void stopProducing() override { ++stops; }
};

TEST_F(BadEndings, PeerThatNeverReadsThenDisappears) {
  // The peer never reads: our buffer passes the high water mark and the producer is paused.
  // Then the peer goes away with our bytes unread, which resets the connection.
  Fd raw = rawConnect(port->getHost().port());
  ASSERT_TRUE(raw);
  Flooder flood;
  std::size_t bufferedAtPause = 0;
  const std::string chunk = makePayload(256 << 10, 11);
  // Closing with bytes unread makes the kernel send a RST; wait (a step at a time) until some
  // have reached the peer's socket, or a clean FIN would go instead.
  std::function<void()> vanish = [&] {
    int unread = 0;
    ::ioctl(raw.get(), FIONREAD, &unread);
    if (unread == 0) {
      reactor.callLater(0, vanish);
    } else {
      raw.close();
    }
  };
  server->hooks.made = [&](Recorder& p) {
    flood.transport = p.transport;
    flood.onPaused = [&] {
      bufferedAtPause = flood.transport->bufferedSize();
      reactor.callLater(0, vanish);
    };
    p.transport->registerProducer(flood, true);
    for (int i = 0; i < 4096 && flood.pauses == 0; ++i)
      p.transport->write(chunk);
  };
  server->hooks.lost = [&](Recorder&, const Failure&) { checkLeaksAndStop(); };
  reactor.run();
  EXPECT_EQ(flood.pauses, 1);
  EXPECT_GT(bufferedAtPause, Transport::kDefaultHighWater);
  EXPECT_EQ(flood.stops, 1) << "the producer hears stopProducing when the connection is lost";
  expectLostWith(only(*server->rec), {ECONNRESET, EPIPE});
}

TEST_F(BadEndings, ConnectToAClosedPortIsRefused) {
  const uint16_t closed = unusedPort();
  ASSERT_NE(closed, 0);
  client->onFailed = [&](Connector&, const Failure&) { checkLeaksAndStop(); };
  auto connector = reactor.connectTCP("127.0.0.1", closed, client);
  reactor.run();
  ASSERT_EQ(client->rec->failed.size(), 1u);
  EXPECT_TRUE(client->rec->failed[0].check<ConnectionRefusedError>())
      << client->rec->failed[0].toString();
  EXPECT_TRUE(client->rec->conns.empty());
}

TEST_F(BadEndings, ListenerClosedBeforeAcceptingRefusesTheConnection) {
  // A raw listener takes the handshake into its accept queue (loopback completes it at once),
  // then closes without accepting: the kernel resets the queued connection. Whether the reset
  // or the handshake wins, the attempt fails as refused, and no protocol is built.
  Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto sa = loopback4(0);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(listener.get(), 8), 0);
  socklen_t len = sizeof sa;
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&sa), &len);
  client->onFailed = [&](Connector&, const Failure&) { checkLeaksAndStop(); };
  client->hooks.made = [&](Recorder&) { ADD_FAILURE() << "connected to a closed listener"; };
  auto connector = reactor.connectTCP("127.0.0.1", ntohs(sa.sin_port), client);
  listener.close();  // before the reactor ever ran: nothing was accepted
  reactor.run();
  ASSERT_EQ(client->rec->failed.size(), 1u);
  EXPECT_TRUE(client->rec->failed[0].check<ConnectionRefusedError>())
      << client->rec->failed[0].toString();
  EXPECT_TRUE(client->rec->conns.empty());
}

TEST_F(BadEndings, BothEndsOursAndOneAbortsWithUnreadData) {
  // Our own client aborts with a reply unread: the server hears a reset, the client
  // ConnectionAborted, and neither side leaks.
  const std::string payload = makePayload(8 << 20, 12);
  server->hooks.made = [&](Recorder& p) { p.transport->write(payload); };
  client->hooks.data = [](Recorder& p, std::string_view) { p.transport->abortConnection(); };
  int losses = 0;
  auto lost = [&](Recorder&, const Failure&) {
    if (++losses == 2) checkLeaksAndStop();
  };
  server->hooks.lost = lost;
  client->hooks.lost = lost;
  auto connector = connectTo(reactor, *port, client);
  reactor.run();
  ASSERT_EQ(losses, 2);
  const ConnRecord& c = only(*client->rec);
  ASSERT_TRUE(c.reason);
  EXPECT_TRUE(c.reason->check<ConnectionAborted>()) << c.reason->toString();
  expectLostWith(only(*server->rec), {ECONNRESET, EPIPE});
}

}  // namespace
}  // namespace spindle::test
