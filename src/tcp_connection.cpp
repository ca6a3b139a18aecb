#include "tcp_connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <iterator>

#include "failures.hpp"
#include "reactor_impl.hpp"
#include "spindle/log.hpp"
#include "sys.hpp"

namespace spindle::detail {

namespace {

// Reads per readiness event, each up to the reactor's 64 KiB buffer: big transfers take few
// wake-ups, yet one busy connection cannot starve the others.
constexpr int kMaxReadsPerEvent = 16;

bool wouldBlock(int err) {
  return err == EAGAIN || err == EWOULDBLOCK;
}

}  // namespace

TcpConnection::TcpConnection(Reactor& reactor, int fd, Address host, Address peer,
                             std::unique_ptr<Protocol> protocol,
                             std::shared_ptr<ConnectionOwner> owner)
    : reactor_(reactor),
      fd_(fd),
      host_(host),
      peer_(peer),
      protocol_(std::move(protocol)),
      owner_(std::move(owner)) {}

TcpConnection::~TcpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

TcpConnection& TcpConnection::create(Reactor& reactor, int fd, Address host, Address peer,
                                     std::unique_ptr<Protocol> protocol,
                                     std::shared_ptr<ConnectionOwner> owner) {
  auto conn = std::make_shared<TcpConnection>(reactor, fd, host, peer, std::move(protocol),
                                              std::move(owner));
  TcpConnection& c = *conn;
  ReactorAccess::adopt(reactor, std::move(conn));
  return c;
}

void TcpConnection::start() {
  try {
    protocol_->makeConnection(*this);
  } catch (...) {
    protocolFailed("connectionMade");
  }
  // Watched only now: a protocol that closes or pauses in connectionMade (a fast poetry server
  // writes and closes) costs no epoll registration at all.
  if (state_ == State::Connected && !paused_) reactor_.addReader(*this);
}

Address TcpConnection::getHost() const {
  if (!host_.valid() && fd_ >= 0) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      host_ = Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    }
  }
  return host_;
}

void TcpConnection::protocolFailed(const char* callback) {
  Failure f(std::current_exception());
  log::err("Unhandled error in {} of the protocol for {}: {}", callback, peer_, f.toString());
  closeWith(f);
}

void TcpConnection::doRead() {
  // Disconnecting: no byte reaches the protocol after loseConnection, whose end-of-step close
  // (or stop of reading, while a flush remains) comes before the next wait.
  if (state_ != State::Connected) return;
  std::span<char> buf = ReactorAccess::readBuffer(reactor_);
  for (int i = 0; i < kMaxReadsPerEvent; ++i) {
    ssize_t n = sys::recv(fd_, buf.data(), buf.size(), 0);
    if (n > 0) {
      try {
        protocol_->dataReceived(std::string_view(buf.data(), static_cast<std::size_t>(n)));
      } catch (...) {
        protocolFailed("dataReceived");
        return;
      }
      // The protocol may have closed, paused or be disconnecting: honour it from the next byte.
      if (state_ != State::Connected || !reactor_.isReading(*this)) return;
      if (static_cast<std::size_t>(n) < buf.size()) return;
    } else if (n == 0) {
      readEnded();
      return;
    } else if (errno == EINTR) {
      continue;
    } else if (wouldBlock(errno)) {
      return;
    } else {
      closeWith(Failure(ConnectionLost({errno, std::system_category()})));
      return;
    }
  }
}

bool TcpConnection::sendNow(std::string_view data, std::size_t& sent) {
  sent = 0;
  while (sent < data.size()) {
    ssize_t n = sys::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      sent += static_cast<std::size_t>(n);
    } else if (errno == EINTR) {
      continue;
    } else if (wouldBlock(errno)) {
      return true;
    } else {
      closeWith(Failure(ConnectionLost({errno, std::system_category()})));
      return false;
    }
  }
  return true;
}

bool TcpConnection::sendGathered(std::size_t& sent) {
  sent = 0;
  iovec iov[WriteBuffer::kMaxIov];
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = out_->gather(iov, std::size(iov));
  for (;;) {
    ssize_t n = sys::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      sent = static_cast<std::size_t>(n);
      return true;
    }
    if (errno == EINTR) continue;
    if (wouldBlock(errno)) return true;
    closeWith(Failure(ConnectionLost({errno, std::system_category()})));
    return false;
  }
}

void TcpConnection::write(std::string_view data) {
  if (state_ == State::Closed || writeShut_ || data.empty()) return;
  std::size_t sent = 0;
  // Nothing queued: try the kernel first and buffer only what it will not take.
  if (!out_ && !sendNow(data, sent)) return;
  if (sent == data.size()) return;
  buffered(data.substr(sent));
}

void TcpConnection::write(const SharedBytes& data) {
  if (state_ == State::Closed || writeShut_ || data.empty()) return;
  std::size_t sent = 0;
  if (!out_ && !sendNow(data.view(), sent)) return;
  if (sent == data.size()) return;
  if (!out_) out_ = std::make_unique<WriteBuffer>();
  out_->append(data.substr(sent));  // by reference: the rest is not copied
  afterBuffering();
}

void TcpConnection::buffered(std::string_view rest) {
  if (!out_) out_ = std::make_unique<WriteBuffer>();
  out_->append(rest);
  afterBuffering();
}

void TcpConnection::afterBuffering() {
  reactor_.addWriter(*this);
  // Pause on the crossing only, not on every write above the mark.
  if (flow_ && flow_->producer && flow_->streaming && !flow_->paused &&
      out_->size() > flow_->high) {
    flow_->paused = true;
    flow_->producer->pauseProducing();
  }
}

void TcpConnection::writeSequence(std::span<const std::string_view> data) {
  if (state_ == State::Closed || writeShut_) return;
  std::size_t skip = 0;  // bytes of `data` already sent
  if (!out_) {
    iovec iov[64];
    std::size_t count = 0;
    for (const auto& piece : data) {
      if (count == std::size(iov)) break;
      if (piece.empty()) continue;
      iov[count++] = {const_cast<char*>(piece.data()), piece.size()};
    }
    if (count == 0) return;
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = count;
    ssize_t n;
    do {
      n = sys::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && !wouldBlock(errno)) {
      closeWith(Failure(ConnectionLost({errno, std::system_category()})));
      return;
    }
    skip = n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  for (const auto& piece : data) {
    if (skip >= piece.size()) {
      skip -= piece.size();
      continue;
    }
    buffered(piece.substr(skip));
    skip = 0;
  }
}

void TcpConnection::doWrite() {
  if (out_) {
    std::size_t sent = 0;
    if (!(out_->contiguous() ? sendNow(out_->view(), sent) : sendGathered(sent))) return;
    out_->consume(sent);
    if (out_->empty()) out_.reset();  // an idle connection holds no buffer
  }
  if (!out_) {
    // Flushed for loseConnection: the close ends the registration, so no epoll_ctl first.
    if (state_ == State::Disconnecting) {
      closeClean();
      return;
    }
    // A pull producer is asked for more each time the socket can take it.
    if (!(flow_ && flow_->producer && !flow_->streaming)) reactor_.removeWriter(*this);
    if (writeShutPending()) {
      shutWrite();
      return;
    }
  }
  producerMayResume();
}

void TcpConnection::producerMayResume() {
  if (!flow_ || !flow_->producer || state_ == State::Closed || writeShut_) return;
  if (bufferedSize() > flow_->low) return;
  if (!flow_->streaming) {
    flow_->producer->resumeProducing();
  } else if (flow_->paused) {
    flow_->paused = false;
    flow_->producer->resumeProducing();
  }
}

TcpConnection::FlowControl& TcpConnection::flow() {
  if (!flow_) flow_ = std::make_unique<FlowControl>();
  return *flow_;
}

void TcpConnection::registerProducer(Producer& producer, bool streaming) {
  if (flow_ && flow_->producer) throw Error("a producer is already registered with this transport");
  if (state_ == State::Closed) {
    producer.stopProducing();
    return;
  }
  FlowControl& f = flow();
  f.producer = &producer;
  f.streaming = streaming;
  f.paused = false;
  if (!streaming) {
    if (!writeShut_) reactor_.addWriter(*this);
  } else if (bufferedSize() > f.high) {
    f.paused = true;
    producer.pauseProducing();
  }
}

void TcpConnection::unregisterProducer() {
  if (!flow_ || !flow_->producer) return;
  flow_->producer = nullptr;
  flow_->paused = false;
  if (!out_ && state_ != State::Closed) reactor_.removeWriter(*this);
}

void TcpConnection::setWriteBufferWaterMarks(std::size_t high, std::size_t low) {
  if (low > high) throw Error("the low water mark must not exceed the high one");
  flow().high = high;
  flow().low = low;
}

void TcpConnection::loseConnection(const Failure& reason) {
  if (state_ != State::Connected) return;
  state_ = State::Disconnecting;
  setReason(reason);
  // Close at the end of the step, so bytes the caller writes after this call still go out.
  // Reading stops then too: with nothing left to flush the close ends it, and the epoll_ctl
  // that stopping now would cost is spared (doRead delivers nothing meanwhile).
  ReactorAccess::callSoon(reactor_, ReactorAccess::self(*this), [](FileDescriptor& fd) {
    auto& self = static_cast<TcpConnection&>(fd);
    if (self.state_ != State::Disconnecting) return;
    if (!self.out_) {
      self.closeClean();
    } else {
      self.reactor_.removeReader(self);
    }
  });
}

void TcpConnection::loseWriteConnection() {
  if (state_ != State::Connected || writeShutAsked_) return;
  writeShutAsked_ = true;
  // As loseConnection: at the end of the step, so bytes written later in this callback go out.
  ReactorAccess::callSoon(reactor_, ReactorAccess::self(*this), [](FileDescriptor& fd) {
    auto& self = static_cast<TcpConnection&>(fd);
    if (self.state_ == State::Connected && self.writeShutPending() && !self.out_) self.shutWrite();
  });
}

void TcpConnection::shutWrite() {
  writeShut_ = true;
  reactor_.removeWriter(*this);
  // This fails only when the connection is already gone, which reading or closing will report.
  ::shutdown(fd_, SHUT_WR);
  if (HalfCloseableProtocol* hc = protocol_->halfCloseable()) {
    try {
      hc->writeConnectionLost();
    } catch (...) {
      protocolFailed("writeConnectionLost");
      return;
    }
  }
  if (readShut_) closeClean();  // both halves are shut: nothing is left to carry
}

void TcpConnection::readEnded() {
  HalfCloseableProtocol* hc = protocol_->halfCloseable();
  if (!hc) {
    closeWith(connectionDoneFailure());
    return;
  }
  // Level-triggered epoll would report the end of stream again and again: stop reading for good.
  readShut_ = true;
  reactor_.removeReader(*this);
  try {
    hc->readConnectionLost();
  } catch (...) {
    protocolFailed("readConnectionLost");
    return;
  }
  if (writeShut_) closeClean();
}

void TcpConnection::abortConnection() {
  if (state_ == State::Closed) return;
  closeWith(connectionAbortedFailure());
}

void TcpConnection::closeClean() {
  closeWith(reason() ? *reason() : connectionDoneFailure());
}

void TcpConnection::closeWith(const Failure& reason) {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  ReactorAccess::unwatchForClose(reactor_, *this);
  getHost();  // last chance to learn it: connectionLost may ask
  ::close(fd_);
  fd_ = -1;
  out_.reset();
  setReason(reason);
  // The protocol hears about it at the end of the step, never inside the call that closed.
  ReactorAccess::callSoon(reactor_, ReactorAccess::self(*this),
                          [](FileDescriptor& fd) { static_cast<TcpConnection&>(fd).notifyLost(); });
}

void TcpConnection::setReason(const Failure& reason) {
  if (&reason == this->reason()) return;
  if (&reason == &connectionDoneFailure()) {
    reason_ = Reason::Done;
  } else if (&reason == &connectionAbortedFailure()) {
    reason_ = Reason::Aborted;
  } else {
    ownedReason_ = std::make_unique<Failure>(reason);
    reason_ = Reason::Owned;
    return;
  }
  ownedReason_.reset();
}

const Failure* TcpConnection::reason() const noexcept {
  switch (reason_) {
    case Reason::Done:
      return &connectionDoneFailure();
    case Reason::Aborted:
      return &connectionAbortedFailure();
    case Reason::Owned:
      return ownedReason_.get();
    case Reason::None:
      break;
  }
  return nullptr;
}

void TcpConnection::notifyLost() {
  protocol_->connected = false;
  if (flow_ && flow_->producer) {
    Producer* p = flow_->producer;
    flow_->producer = nullptr;
    try {
      p->stopProducing();
    } catch (...) {
      log::err("Unhandled error in stopProducing of the producer for {}: {}", peer_,
               Failure(std::current_exception()).toString());
    }
  }
  try {
    protocol_->connectionLost(*reason());
  } catch (...) {
    log::err("Unhandled error in connectionLost of the protocol for {}: {}", peer_,
             Failure(std::current_exception()).toString());
  }
  if (owner_) {
    try {
      owner_->connectionLost(*reason());
    } catch (...) {
      log::err("Unhandled error after connection to {} was lost: {}", peer_,
               Failure(std::current_exception()).toString());
    }
  }
  ReactorAccess::release(reactor_, *this);
}

void TcpConnection::pauseProducing() {
  paused_ = true;
  if (state_ == State::Connected) reactor_.removeReader(*this);
}

void TcpConnection::resumeProducing() {
  paused_ = false;
  if (state_ == State::Connected && !readShut_) reactor_.addReader(*this);
}

bool TcpConnection::setOption(int level, int name, bool enabled) {
  if (fd_ < 0) return false;
  int v = enabled ? 1 : 0;
  return ::setsockopt(fd_, level, name, &v, sizeof v) == 0;
}

bool TcpConnection::getOption(int level, int name) const {
  if (fd_ < 0) return false;
  int v = 0;
  socklen_t len = sizeof v;
  return ::getsockopt(fd_, level, name, &v, &len) == 0 && v != 0;
}

void TcpConnection::setTcpNoDelay(bool enabled) {
  setOption(IPPROTO_TCP, TCP_NODELAY, enabled);
}
bool TcpConnection::getTcpNoDelay() const {
  return getOption(IPPROTO_TCP, TCP_NODELAY);
}
void TcpConnection::setTcpKeepAlive(bool enabled) {
  setOption(SOL_SOCKET, SO_KEEPALIVE, enabled);
}
bool TcpConnection::getTcpKeepAlive() const {
  return getOption(SOL_SOCKET, SO_KEEPALIVE);
}

}  // namespace spindle::detail
