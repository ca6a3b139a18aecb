// listenTCP: the listening socket, accepting connections and handing them to new transports.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "reactor_impl.hpp"
#include "spindle/factory.hpp"
#include "spindle/log.hpp"
#include "spindle/tcp.hpp"
#include "sys.hpp"
#include "tcp_connection.hpp"

namespace spindle::detail {

namespace {

// Connections accepted per readiness event before giving other descriptors a turn.
constexpr int kMaxAcceptsPerEvent = 64;
// How long accepting pauses after the process ran out of descriptors.
constexpr double kExhaustionBackoff = 0.1;

int openReserve() {
  return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

}  // namespace

/// A listening socket. Owned by the reactor while it listens.
class TcpPort final : public FileDescriptor, public ListeningPort {
 public:
  TcpPort(Reactor& reactor, std::shared_ptr<Factory> factory)
      : reactor_(reactor), factory_(std::move(factory)), keeper_(std::make_shared<Keeper>()) {
    keeper_->factory = factory_;
  }
  ~TcpPort() override {
    if (fd_ >= 0) ::close(fd_);
    if (reserve_ >= 0) ::close(reserve_);
  }

  void startListening(uint16_t port, int backlog, std::string_view interface) {
    std::string iface(interface);
    auto addr = Address::fromIp(interface, port);
    if (!addr)
      throw CannotListenError(iface, port, std::make_error_code(std::errc::invalid_argument));
    fd_ = ::socket(addr->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw CannotListenError(iface, port, {errno, std::system_category()});
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd_, addr->sockaddrPtr(), addr->sockaddrLen()) < 0 || ::listen(fd_, backlog) < 0) {
      std::error_code code(errno, std::system_category());
      ::close(fd_);
      fd_ = -1;
      throw CannotListenError(iface, port, code);
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    host_ = Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    wildcard_ = host_.host() == "0.0.0.0" || host_.host() == "::";
    reserve_ = openReserve();
    listening_ = true;
    factory_->doStart();
  }

  /// Starts accepting; the reactor owns the port by now.
  void watch() { reactor_.addReader(*this); }

  Address getHost() const override { return host_; }
  bool listening() const override { return listening_; }

  void stopListening() override {
    if (!listening_) return;
    listening_ = false;
    if (backoff_.active()) backoff_.cancel();
    ReactorAccess::unwatchForClose(reactor_, *this);
    ::close(fd_);
    fd_ = -1;
    ReactorAccess::callSoon(reactor_, ReactorAccess::self(*this), [](FileDescriptor& fd) {
      auto& self = static_cast<TcpPort&>(fd);
      self.factory_->doStop();
      ReactorAccess::release(self.reactor_, self);
    });
  }

  int fileno() const override { return fd_; }
  void doWrite() override {}
  void connectionLost(const Failure&) override { stopListening(); }

  void doRead() override {
    for (int i = 0; i < kMaxAccepts && listening_; ++i) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      int fd =
          sys::accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EMFILE || errno == ENFILE) {
          handleExhaustion(errno);
        } else {
          log::err("accept() on {} failed: {}", host_, std::strerror(errno));
        }
        return;
      }
      exhaustionLogged_ = false;
      accepted(fd, Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len));
    }
  }

 private:
  static constexpr int kMaxAccepts = kMaxAcceptsPerEvent;

  void accepted(int fd, Address peer) {
    std::unique_ptr<Protocol> protocol;
    try {
      protocol = factory_->buildProtocol(peer);
    } catch (...) {
      log::err("Unhandled error in buildProtocol for {}: {}", peer,
               Failure(std::current_exception()).toString());
    }
    if (!protocol) {
      ::close(fd);
      return;
    }
    if (!protocol->factory()) protocol->setFactory(factory_.get());
    // A port bound to one address knows every connection's local address; a wildcard port
    // leaves it to be looked up if anyone asks.
    Address host = wildcard_ ? Address() : host_;
    // The connection keeps the factory alive as long as its protocol may use it.
    TcpConnection::create(reactor_, fd, host, peer, std::move(protocol), keeper_).start();
  }

  // Out of descriptors: a level-triggered listener would wake at once and fail again, burning
  // a core. Spend the reserve descriptor to accept and close what is pending, so those clients
  // learn at once, and pause accepting for a moment. If another thread takes the freed
  // descriptor first, the accept fails again and we simply back off.
  void handleExhaustion(int err) {
    if (!exhaustionLogged_) {
      log::err("accept() on {} failed: {}; refusing connections until descriptors free up", host_,
               std::strerror(err));
      exhaustionLogged_ = true;
    }
    if (reserve_ >= 0) {
      ::close(reserve_);
      reserve_ = -1;
      for (int i = 0; i < kMaxAccepts; ++i) {
        int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) break;
        ::close(fd);
      }
      reserve_ = openReserve();
    }
    reactor_.removeReader(*this);
    backoff_ =
        reactor_.callLater(kExhaustionBackoff, [weak = std::weak_ptr(ReactorAccess::self(*this))] {
          if (auto self = weak.lock(); self && self->listening_) self->reactor_.addReader(*self);
        });
  }

  // Shared by this port's connections: keeps the factory alive while any of them lives.
  struct Keeper : ConnectionOwner {
    std::shared_ptr<Factory> factory;
  };

  Reactor& reactor_;
  std::shared_ptr<Factory> factory_;
  std::shared_ptr<Keeper> keeper_;
  int fd_ = -1;
  int reserve_ = -1;
  Address host_;
  bool listening_ = false;
  bool wildcard_ = false;
  bool exhaustionLogged_ = false;
  DelayedCall backoff_;
};

}  // namespace spindle::detail

namespace spindle {

std::shared_ptr<ListeningPort> Reactor::listenTCP(uint16_t port, std::shared_ptr<Factory> factory,
                                                  int backlog, std::string_view interface) {
  if (!factory) throw Error("listenTCP needs a factory");
  auto p = std::make_shared<detail::TcpPort>(*this, std::move(factory));
  p->startListening(port, backlog, interface);  // throws before the reactor owns it
  detail::ReactorAccess::adopt(*this, p);
  p->watch();
  return p;
}

}  // namespace spindle
