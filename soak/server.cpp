// The soak server: one reactor, one listening port, a ServerConn per connection. It lives in its
// own process so its descriptors, memory and CPU are its own, as a real server's would be.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "roles.hpp"

namespace soak {
namespace {

// The server half of the exchange: answers Hello with Ready, starts streaming on Start, and
// after the client's End sends its own and closes.
class ServerConn : public Endpoint {
 public:
  using Endpoint::Endpoint;

 protected:
  void controlReceived(Tag tag, std::string_view frame) override {
    if (tag == kHello) {
      auto id = frameNumber(frame);
      if (!id || hello_) return protocolViolation("a malformed or repeated Hello");
      hello_ = true;
      setId(*id, Direction::ServerToClient);
      sendFrame(std::string(1, kReady));
    } else if (tag == kStart) {
      if (!hello_) return protocolViolation("Start before Hello");
      startSending();
    } else {
      protocolViolation("an unknown frame");
    }
  }
  void peerFinished() override {
    finishSending();
    transport->loseConnection();
  }

 private:
  bool hello_ = false;
};

class SoakServerFactory : public spindle::ServerFactory {
 public:
  SoakServerFactory(Totals& totals, const Options& options) : totals_(totals), options_(options) {}
  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address&) override {
    return makeProtocol<ServerConn>(totals_, options_.seed, options_.maxFrame);
  }

 private:
  Totals& totals_;
  const Options& options_;
};

// Stops the reactor when standard input reaches its end: the driver closes the pipe when the
// client is done, and the pipe also closes if the driver dies, so the server never outlives it.
class StdinWatch : public spindle::FileDescriptor {
 public:
  explicit StdinWatch(spindle::Reactor& reactor) : reactor_(reactor) {}
  int fileno() const override { return STDIN_FILENO; }
  void doRead() override {
    char buf[256];
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n > 0 || (n < 0 && errno == EINTR)) return;
    reactor_.removeAll(*this);
    if (reactor_.running()) reactor_.stop();
  }
  void doWrite() override {}
  void connectionLost(const spindle::Failure&) override {}

 private:
  spindle::Reactor& reactor_;
};

}  // namespace

void writeReport(const Totals& t, long peakRss, bool injected) {
  auto stat = [](const char* key, unsigned long long v) { std::printf("STAT %s %llu\n", key, v); };
  stat("made", t.made);
  stat("peak", t.peakOpen);
  stat("completed", t.completed);
  stat("sent", t.bytesSent);
  stat("received", t.bytesReceived);
  stat("corrupt", t.corruptBytes);
  stat("lost", t.lostBytes);
  stat("extra", t.extraBytes);
  stat("rss_kib", static_cast<unsigned long long>(peakRss));
  stat("injected", injected ? 1 : 0);
  for (const auto& [why, count] : t.errors)
    std::printf("ERROR %llu %s\n", static_cast<unsigned long long>(count), why.c_str());
  std::printf("END\n");
  std::fflush(stdout);
}

int runServer(const Options& options) {
  if (auto why = raiseFdLimit(options.descriptorsNeeded()); !why.empty()) {
    std::fprintf(stderr, "soak server: %s\n", why.c_str());
    return 77;
  }
  Endpoint::fault = options.inject;
  Totals totals;
  spindle::Reactor reactor;
  auto factory = std::make_shared<SoakServerFactory>(totals, options);
  // SOMAXCONN: the kernel caps it at net.core.somaxconn; the client keeps fewer attempts than
  // that outstanding, so no SYN is dropped for a full queue.
  auto port = reactor.listenTCP(0, factory, SOMAXCONN, options.host());
  std::printf("PORT %u\n", static_cast<unsigned>(port->getHost().port()));
  std::fflush(stdout);
  StdinWatch watch(reactor);
  reactor.addReader(watch);
  reactor.callLater(options.serverDeadline, [&] {
    totals.error("the server's deadline passed");
    if (reactor.running()) reactor.stop();
  });
  reactor.run({.installSignalHandlers = true});
  writeReport(totals, peakRssKiB(), Endpoint::faultInjected);
  return 0;
}

}  // namespace soak
