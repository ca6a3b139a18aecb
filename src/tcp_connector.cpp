// connectTCP: the Connector, and the attempt that resolves the name and connects the socket.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "reactor_impl.hpp"
#include "spindle/factory.hpp"
#include "spindle/log.hpp"
#include "spindle/tcp.hpp"
#include "sys.hpp"
#include "tcp_connection.hpp"

namespace spindle::detail {

namespace {

Failure connectFailure(int err) {
  std::error_code code(err, std::system_category());
  switch (err) {
    case ECONNREFUSED:
      return Failure(ConnectionRefusedError());
    case ECONNRESET:
      // The peer reset the connection before it was ours (a listener closed before accepting
      // it): for the caller that is a refusal.
      return Failure(ConnectionRefusedError("connection reset before it was established"));
    case ETIMEDOUT:
      return Failure(ConnectError("TCP connection timed out", code));
    default:
      return Failure(ConnectError("An error occurred while connecting", code));
  }
}

Address localAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

Address peerAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return {};
  return Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace

class TcpConnector;

/// One connection attempt: resolve the name, then try each address in turn until one connects.
/// Owned by the reactor while it runs, so shutdown can fail it.
class ConnectAttempt final : public FileDescriptor {
 public:
  ConnectAttempt(Reactor& reactor, std::shared_ptr<TcpConnector> connector)
      : reactor_(reactor), connector_(std::move(connector)) {}
  ~ConnectAttempt() override {
    if (fd_ >= 0) ::close(fd_);
  }

  void start();
  /// Ends the attempt with `reason`; the connector hears it at the end of the step.
  void fail(const Failure& reason);
  bool finished() const noexcept { return finished_; }

  int fileno() const override { return fd_; }
  void doRead() override {}
  void doWrite() override;
  void connectionLost(const Failure& reason) override { fail(reason); }

 private:
  void resolved(ResolveResult result);
  void tryNext();
  void closeSocket();

  Reactor& reactor_;
  std::shared_ptr<TcpConnector> connector_;
  std::vector<Address> addresses_;
  std::size_t next_ = 0;
  std::optional<Failure> lastError_;
  int fd_ = -1;
  bool finished_ = false;
};

/// The Connector returned by connectTCP. Kept alive by its attempt or its connection while
/// either exists, and by the caller's handle.
class TcpConnector final : public Connector, public ConnectionOwner {
 public:
  TcpConnector(Reactor& reactor, HostPort dest, std::shared_ptr<ClientFactory> factory,
               double timeout, std::optional<Address> bindAddress)
      : reactor_(reactor),
        dest_(std::move(dest)),
        factory_(std::move(factory)),
        timeout_(timeout),
        bindAddress_(bindAddress) {}

  HostPort getDestination() const override { return dest_; }
  State state() const override { return state_; }
  ClientFactory& factory() const override { return *factory_; }
  const std::optional<Address>& bindAddress() const { return bindAddress_; }
  Reactor& reactor() const { return reactor_; }

  void connect() override {
    if (state_ != State::Disconnected) throw Error("can't connect in this state");
    state_ = State::Connecting;
    if (!factoryStarted_) {
      factory_->doStart();
      factoryStarted_ = true;
    }
    auto attempt = std::make_shared<ConnectAttempt>(reactor_, self());
    attempt_ = attempt;
    ReactorAccess::adopt(reactor_, attempt);
    if (timeout_ > 0) {
      timeoutCall_ = reactor_.callLater(timeout_, [weak = std::weak_ptr(attempt)] {
        if (auto a = weak.lock()) a->fail(Failure(TimeoutError()));
      });
    }
    attempt->start();
    factory_->startedConnecting(*this);
  }

  void stopConnecting() override {
    auto attempt = attempt_.lock();
    if (state_ != State::Connecting || !attempt || attempt->finished()) {
      throw Error("we're not trying to connect");
    }
    attempt->fail(Failure(UserError()));
  }

  void disconnect() override {
    if (state_ == State::Connecting) {
      if (auto a = attempt_.lock(); a && !a->finished()) a->fail(Failure(UserError()));
    } else if (state_ == State::Connected && transport_) {
      transport_->loseConnection();
    }
  }

  /// The attempt connected `fd`: build the protocol and start the transport.
  void connected(int fd, Address host, Address peer) {
    cancelTimeout();
    state_ = State::Connected;
    std::unique_ptr<Protocol> protocol;
    try {
      protocol = factory_->buildProtocol(peer);
    } catch (...) {
      ::close(fd);
      connectionFailed(Failure(std::current_exception()));
      return;
    }
    if (!protocol) {
      // As Twisted: the connection was made, then closed at once, cleanly.
      ::close(fd);
      connectionLost(Failure(ConnectionDone("The factory built no protocol.")));
      return;
    }
    if (!protocol->factory()) protocol->setFactory(factory_.get());
    TcpConnection& conn =
        TcpConnection::create(reactor_, fd, host, peer, std::move(protocol), self());
    transport_ = &conn;  // before connectionMade, which may call disconnect()
    conn.start();
  }

  void connectionFailed(const Failure& reason) {
    cancelTimeout();
    attempt_.reset();
    state_ = State::Disconnected;
    factory_->clientConnectionFailed(*this, reason);
    stopFactoryIfIdle();
  }

  void connectionLost(const Failure& reason) override {
    transport_ = nullptr;
    state_ = State::Disconnected;
    factory_->clientConnectionLost(*this, reason);
    stopFactoryIfIdle();
  }

 private:
  std::shared_ptr<TcpConnector> self() {
    return std::static_pointer_cast<TcpConnector>(shared_from_this());
  }
  void cancelTimeout() {
    if (timeoutCall_.active()) timeoutCall_.cancel();
  }
  void stopFactoryIfIdle() {
    // A callback that called connect() again keeps the factory started.
    if (state_ == State::Disconnected && factoryStarted_) {
      factoryStarted_ = false;
      factory_->doStop();
    }
  }

  Reactor& reactor_;
  HostPort dest_;
  std::shared_ptr<ClientFactory> factory_;
  double timeout_;
  std::optional<Address> bindAddress_;
  State state_ = State::Disconnected;
  bool factoryStarted_ = false;
  DelayedCall timeoutCall_;
  std::weak_ptr<ConnectAttempt> attempt_;
  Transport* transport_ = nullptr;  // the connection's, from connected() until connectionLost
};

void ConnectAttempt::start() {
  const HostPort dest = connector_->getDestination();
  if (auto ip = Address::fromIp(dest.host, dest.port); ip && !dest.host.empty()) {
    addresses_.push_back(*ip);
    tryNext();
    return;
  }
  reactor_.resolver().resolveHostName(
      dest.host, dest.port,
      [weak = std::weak_ptr(ReactorAccess::self(*this))](ResolveResult result) {
        if (auto self = weak.lock()) self->resolved(std::move(result));
      });
}

void ConnectAttempt::resolved(ResolveResult result) {
  if (finished_) return;
  if (!result.error.empty() || result.addresses.empty()) {
    const std::string& host = connector_->getDestination().host;
    fail(Failure(DNSLookupError("address '" + host + "' not found: " +
                                (result.error.empty() ? "no addresses" : result.error))));
    return;
  }
  addresses_ = std::move(result.addresses);
  tryNext();
}

void ConnectAttempt::tryNext() {
  while (!finished_) {
    if (next_ >= addresses_.size()) {
      fail(lastError_ ? *lastError_ : Failure(ConnectError("no address to connect to")));
      return;
    }
    const Address& addr = addresses_[next_++];
    fd_ = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      lastError_ = connectFailure(errno);
      continue;
    }
    const auto& bind = connector_->bindAddress();
    if (bind && ::bind(fd_, bind->sockaddrPtr(), bind->sockaddrLen()) < 0) {
      lastError_ = Failure(
          ConnectError("Couldn't bind to " + bind->toString(), {errno, std::system_category()}));
      closeSocket();
      continue;
    }
    // An interrupted connect is not retried: POSIX says it goes on in the background, and a
    // second call would fail with EALREADY.
    int r = sys::connect(fd_, addr.sockaddrPtr(), addr.sockaddrLen());
    if (r == 0 || errno == EINPROGRESS || errno == EINTR) {
      // Completion, success or failure, is reported by writability.
      reactor_.addWriter(*this);
      return;
    }
    lastError_ = connectFailure(errno);
    closeSocket();
  }
}

void ConnectAttempt::doWrite() {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err == 0) {
    Address host = localAddress(fd_);
    Address peer = peerAddress(fd_);
    if (!peer.valid()) {
      err = ENOTCONN;
    } else if (host == peer) {
      // TCP simultaneous open: connecting to a free port of our own can connect to ourselves.
      lastError_ = Failure(ConnectionRefusedError("connected to itself"));
      closeSocket();
      tryNext();
      return;
    } else {
      reactor_.removeAll(*this);
      int fd = fd_;
      fd_ = -1;
      finished_ = true;
      ReactorAccess::release(reactor_, *this);
      connector_->connected(fd, host, peer);
      return;
    }
  }
  if (err == EINPROGRESS || err == EALREADY) return;
  lastError_ = connectFailure(err);
  closeSocket();
  tryNext();
}

void ConnectAttempt::closeSocket() {
  if (fd_ < 0) return;
  reactor_.removeAll(*this);
  ::close(fd_);
  fd_ = -1;
}

void ConnectAttempt::fail(const Failure& reason) {
  if (finished_) return;
  finished_ = true;
  closeSocket();
  ReactorAccess::release(reactor_, *this);
  ReactorAccess::callSoon(
      reactor_, [connector = connector_, reason] { connector->connectionFailed(reason); });
}

}  // namespace spindle::detail

namespace spindle {

std::shared_ptr<Connector> Reactor::connectTCP(std::string host, uint16_t port,
                                               std::shared_ptr<ClientFactory> factory,
                                               double timeout, std::optional<Address> bindAddress) {
  if (!factory) throw Error("connectTCP needs a factory");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto c = std::make_shared<detail::TcpConnector>(*this, HostPort{std::move(host), port},
                                                  std::move(factory), timeout, bindAddress);
  c->connect();
  return c;
}

}  // namespace spindle
