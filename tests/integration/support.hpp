// Shared helpers for the integration tests: a watchdog, a log capture, recording protocols and
// factories, and raw sockets for the peers spindle itself cannot play (a reset, a full backlog).
// Every address here is loopback; every wait is on an event, bounded by the watchdog.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "spindle/spindle.hpp"
#include "spindle/testing.hpp"

namespace spindle::test {

inline void stopIfRunning(Reactor& reactor) {
  if (reactor.running()) reactor.stop();
}

/// Fails the test and stops the reactor if it still runs `seconds` from now, so no test hangs.
inline DelayedCall armWatchdog(Reactor& reactor, double seconds = 5) {
  return reactor.callLater(seconds, [&reactor, seconds] {
    ADD_FAILURE() << "watchdog: the test did not finish within " << seconds << " s";
    stopIfRunning(reactor);
  });
}

/// Redirects spindle's log into memory for the lifetime of the object.
class LogCapture {
 public:
  LogCapture() {
    previous_ = log::setSink([this](log::Level level, std::string_view message) {
      std::lock_guard lock(mutex_);
      messages_.push_back({level, std::string(message)});
    });
  }
  ~LogCapture() { log::setSink(std::move(previous_)); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  /// True if one message at Warn or above contains every one of `needles`.
  bool containsError(std::initializer_list<std::string_view> needles) const {
    std::lock_guard lock(mutex_);
    for (const auto& [level, text] : messages_) {
      if (level < log::Level::Warn) continue;
      bool all = true;
      for (auto n : needles)
        all = all && text.find(n) != std::string::npos;
      if (all) return true;
    }
    return false;
  }
  /// Every message, one a line, for failure output.
  std::string dump() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& m : messages_)
      out += m.text + "\n";
    return out.empty() ? "<no log messages>" : out;
  }

 private:
  struct Entry {
    log::Level level;
    std::string text;
  };
  mutable std::mutex mutex_;
  std::vector<Entry> messages_;
  log::Sink previous_;
};

/// What one connection's protocol saw. Lives apart from the protocol (which the reactor owns and
/// destroys), so a test can read it after the connection is gone.
struct ConnRecord {
  bool made = false;
  bool dataBeforeMade = false;
  bool dataAfterLost = false;
  std::string data;
  int lostCount = 0;
  std::optional<Failure> reason;
  Address host, peer;
  Transport* transport = nullptr;   ///< Set while connected.
  std::vector<std::string> events;  ///< "made", "data", "lost", in order.
};

class Recorder;

/// Behaviour to plug into every protocol a factory builds. Hooks run after the record is updated.
struct Hooks {
  std::function<void(Recorder&)> made;
  std::function<void(Recorder&, std::string_view)> data;
  std::function<void(Recorder&, const Failure&)> lost;
};

/// A protocol that records everything into a ConnRecord and then runs the test's hooks.
class Recorder : public Protocol {
 public:
  Recorder(std::shared_ptr<ConnRecord> record, Hooks hooks)
      : rec(std::move(record)), hooks_(std::move(hooks)) {
    ++liveCount();
  }
  ~Recorder() override { --liveCount(); }
  /// Recorders alive now, in this process. A protocol lives exactly as long as the transport
  /// that owns it, so this also counts live transports.
  static int& liveCount() {
    static int live = 0;
    return live;
  }

  void connectionMade() override {
    rec->made = true;
    rec->events.push_back("made");
    rec->transport = transport;
    rec->host = transport->getHost();
    rec->peer = transport->getPeer();
    if (hooks_.made) hooks_.made(*this);
  }
  void dataReceived(std::string_view data) override {
    if (!rec->made) rec->dataBeforeMade = true;
    if (rec->lostCount > 0) rec->dataAfterLost = true;
    if (rec->events.empty() || rec->events.back() != "data") rec->events.push_back("data");
    rec->data.append(data);
    if (hooks_.data) hooks_.data(*this, data);
  }
  void connectionLost(const Failure& reason) override {
    ++rec->lostCount;
    rec->events.push_back("lost");
    rec->reason = reason;
    if (hooks_.lost) hooks_.lost(*this, reason);
    rec->transport = nullptr;
  }

  std::shared_ptr<ConnRecord> rec;

 private:
  Hooks hooks_;
};

/// What a factory saw; shared with the test so it survives the factory.
struct FactoryRecord {
  int started = 0;  ///< startFactory calls
  int stopped = 0;  ///< stopFactory calls
  bool destroyed = false;
  std::vector<std::shared_ptr<ConnRecord>> conns;  ///< one per protocol built, in order
  // Client factories only:
  int startedConnecting = 0;
  std::vector<Failure> failed;      ///< clientConnectionFailed reasons
  std::vector<Failure> lost;        ///< clientConnectionLost reasons
  std::vector<std::string> events;  ///< "started", "failed", "lost", "protocol-lost"
};

inline std::shared_ptr<ConnRecord> buildRecord(FactoryRecord& fr) {
  auto rec = std::make_shared<ConnRecord>();
  fr.conns.push_back(rec);
  return rec;
}

class TestServerFactory : public ServerFactory {
 public:
  ~TestServerFactory() override { rec->destroyed = true; }
  std::unique_ptr<Protocol> buildProtocol(const Address& addr) override {
    if (refuse) return nullptr;
    return makeProtocol<Recorder>(buildRecord(*rec), hooks);
  }
  void startFactory() override { ++rec->started; }
  void stopFactory() override { ++rec->stopped; }

  std::shared_ptr<FactoryRecord> rec = std::make_shared<FactoryRecord>();
  Hooks hooks;
  bool refuse = false;  ///< buildProtocol returns nullptr
};

class TestClientFactory : public ClientFactory {
 public:
  ~TestClientFactory() override { rec->destroyed = true; }
  std::unique_ptr<Protocol> buildProtocol(const Address& addr) override {
    if (refuse) return nullptr;
    Hooks h = hooks;
    auto record = buildRecord(*rec);
    // Note the protocol's connectionLost in the factory's event list, to check the order.
    auto userLost = h.lost;
    std::weak_ptr<FactoryRecord> fr = rec;
    h.lost = [fr, userLost](Recorder& p, const Failure& reason) {
      if (auto r = fr.lock()) r->events.push_back("protocol-lost");
      if (userLost) userLost(p, reason);
    };
    return makeProtocol<Recorder>(record, h);
  }
  void startFactory() override { ++rec->started; }
  void stopFactory() override { ++rec->stopped; }
  void startedConnecting(Connector& c) override {
    ++rec->startedConnecting;
    rec->events.push_back("started");
    if (onStarted) onStarted(c);
  }
  void clientConnectionFailed(Connector& c, const Failure& reason) override {
    rec->failed.push_back(reason);
    rec->events.push_back("failed");
    if (onFailed) onFailed(c, reason);
  }
  void clientConnectionLost(Connector& c, const Failure& reason) override {
    rec->lost.push_back(reason);
    rec->events.push_back("lost");
    if (onLost) onLost(c, reason);
  }

  std::shared_ptr<FactoryRecord> rec = std::make_shared<FactoryRecord>();
  Hooks hooks;
  bool refuse = false;
  std::function<void(Connector&)> onStarted;
  std::function<void(Connector&, const Failure&)> onFailed;
  std::function<void(Connector&, const Failure&)> onLost;
};

/// Listens on 127.0.0.1 with a free port.
inline std::shared_ptr<ListeningPort> listenLocal(Reactor& reactor,
                                                  std::shared_ptr<Factory> factory) {
  return reactor.listenTCP(0, std::move(factory), 50, "127.0.0.1");
}

inline std::shared_ptr<Connector> connectTo(Reactor& reactor, const ListeningPort& port,
                                            std::shared_ptr<ClientFactory> factory,
                                            double timeout = 30) {
  auto host = port.getHost();
  return reactor.connectTCP(host.host(), host.port(), std::move(factory), timeout);
}

/// One server and one client factory on a fresh reactor, with a watchdog armed.
/// Set hooks, then call start() (listen, connect, run).
class TcpTest : public ::testing::Test {
 protected:
  void SetUp() override { armWatchdog(reactor); }

  /// Listens on 127.0.0.1, connects one client, and runs the reactor until it stops.
  void start(double timeout = 30) {
    port = listenLocal(reactor, server);
    connector = connectTo(reactor, *port, client, timeout);
    reactor.run();
  }

  /// Stops the reactor once `n` connectionLost calls (both sides counted) have happened.
  void stopAfterLosses(int n) {
    lossesToStop_ = n;
    for (Hooks* h : {&server->hooks, &client->hooks}) {
      auto previous = h->lost;
      h->lost = [this, previous](Recorder& p, const Failure& reason) {
        if (previous) previous(p, reason);
        if (++losses_ == lossesToStop_) stopIfRunning(reactor);
      };
    }
  }

  ConnRecord& serverConn(size_t i = 0) {
    if (server->rec->conns.size() <= i) throw std::out_of_range("no such server connection");
    return *server->rec->conns[i];
  }
  ConnRecord& clientConn(size_t i = 0) {
    if (client->rec->conns.size() <= i) throw std::out_of_range("no such client connection");
    return *client->rec->conns[i];
  }

  Reactor reactor;  // first member: destroyed last
  std::shared_ptr<TestServerFactory> server = std::make_shared<TestServerFactory>();
  std::shared_ptr<TestClientFactory> client = std::make_shared<TestClientFactory>();
  std::shared_ptr<ListeningPort> port;
  std::shared_ptr<Connector> connector;

 private:
  int losses_ = 0;
  int lossesToStop_ = -1;
};

/// A deterministic, non-periodic payload of `n` bytes.
inline std::string makePayload(std::size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  uint32_t x = 2463534242u ^ seed;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xff);
  }
  return s;
}

/// A raw socket descriptor closed on destruction (unless released or closed already).
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      close();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  ~Fd() { close(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  /// Closes with SO_LINGER {1, 0}: the kernel sends RST instead of FIN.
  void closeWithReset() {
    if (fd_ < 0) return;
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
  }

 private:
  int fd_ = -1;
};

inline sockaddr_in loopback4(uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

/// A blocking TCP socket connected to 127.0.0.1:port. Connecting to a listening loopback socket
/// completes in the kernel without the listener accepting, so this does not need the reactor.
inline Fd rawConnect(uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  auto sa = loopback4(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) fd.close();
  return fd;
}

/// A loopback port nobody listens on: bound to pick it, then closed (it never listened, so it
/// leaves no TIME_WAIT behind). Another process could take it meanwhile; on loopback in a test
/// run that is unlikely enough.
inline uint16_t unusedPort() {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto sa = loopback4(0);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return 0;
  socklen_t len = sizeof sa;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

/// A loopback listener that never accepts, with listen backlog 0 and its accept queue filled by
/// raw connects, so a new connection attempt's SYN is dropped and the attempt hangs until its
/// timeout. Caveat: this relies on Linux dropping SYNs when the accept queue is full (it does,
/// syncookies or not); if the kernel keeps completing handshakes we keep filling, up to a cap.
class Blackhole {
 public:
  /// Returns false if the queue could not be shown to be full (the caller should skip).
  bool open() {
    listener_ = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    auto sa = loopback4(0);
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return false;
    if (::listen(listener_.get(), 0) != 0) return false;
    socklen_t len = sizeof sa;
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    for (int i = 0; i < 64; ++i) {
      Fd c(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      int r = ::connect(c.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
      if (r != 0 && errno != EINPROGRESS) return false;
      bool pending = false;
      if (r != 0) {
        // A loopback handshake completes in microseconds; 200 ms without completion means the
        // SYN was dropped. This waits on the event itself, bounded.
        pollfd p{c.get(), POLLOUT, 0};
        pending = ::poll(&p, 1, 200) == 0;
      }
      fillers_.push_back(std::move(c));
      if (pending) return true;
    }
    return false;
  }
  uint16_t port() const { return port_; }

 private:
  Fd listener_;
  uint16_t port_ = 0;
  std::vector<Fd> fillers_;
};

/// True if this host can listen on ::1.
inline bool haveIPv6Loopback() {
  Fd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_addr = in6addr_loopback;
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
}

}  // namespace spindle::test
