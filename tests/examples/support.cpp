#include "support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include <gtest/gtest.h>

namespace examples_test {

namespace {

using spindle::test::millisUntil;
using spindle::test::throwErrno;

using SteadyClock = std::chrono::steady_clock;

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

// --- Programs ---------------------------------------------------------------------------------

Server::~Server() {
  if (!child) return;
  if (!child->exited()) {
    child->signal(SIGTERM);
    EXPECT_EQ(child->wait(), 0) << "the server did not stop cleanly on SIGTERM; stderr:\n"
                                << child->err();
  }
  expectNoSanitizerReport(*child);
}

void expectNoSanitizerReport(const Child& child) {
  for (const char* marker : {"Sanitizer", "runtime error:"}) {
    EXPECT_EQ(child.err().find(marker), std::string::npos) << child.err();
  }
}

Server startServer(const std::string& bin, std::vector<std::string> args) {
  return Server(spindle::test::spawnServer(bin, std::move(args)));
}

std::unique_ptr<Child> run(const std::string& bin, std::vector<std::string> args, Millis timeout) {
  auto child = spindle::test::runToExit(bin, std::move(args), timeout);
  expectNoSanitizerReport(*child);
  return child;
}

// --- Peer -------------------------------------------------------------------------------------

Peer::Peer(int port, const std::string& host) {
  sockaddr_storage addr{};
  socklen_t len;
  int family;
  if (host.find(':') != std::string::npos) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr);
    len = sizeof *a6;
    family = AF_INET6;
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, host.c_str(), &a4->sin_addr);
    len = sizeof *a4;
    family = AF_INET;
  }
  fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throwErrno("socket");
  // Connecting on loopback completes (or is refused) at once: no wait to bound.
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    int saved = errno;
    closeFd(fd_);
    errno = saved;
    throwErrno("connect to " + host + ":" + std::to_string(port));
  }
  ::fcntl(fd_, F_SETFL, O_NONBLOCK);
}

std::unique_ptr<Peer> Peer::adopt(int fd) {
  std::unique_ptr<Peer> peer(new Peer);
  peer->fd_ = fd;
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  return peer;
}

Peer::~Peer() {
  closeFd(fd_);
}

void Peer::close() {
  closeFd(fd_);
  eof_ = true;
}

void Peer::send(std::string_view data) {
  auto deadline = SteadyClock::now() + kWait;
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EAGAIN) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, millisUntil(deadline)) == 0) throw std::runtime_error("send timed out");
    } else if (n < 0 && errno != EINTR) {
      throwErrno("send");
    }
  }
}

bool Peer::pump(SteadyClock::time_point until) {
  if (eof_) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, millisUntil(until)) <= 0) return SteadyClock::now() < until;
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n > 0) {
    in_.append(buf, static_cast<std::size_t>(n));
  } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
    eof_ = true;  // EOF, or a reset: either way nothing more will come
    return false;
  }
  return true;
}

bool Peer::readUntil(const std::function<bool(const std::string&)>& done, Millis timeout) {
  auto deadline = SteadyClock::now() + timeout;
  while (!done(in_)) {
    if (SteadyClock::now() >= deadline || !pump(deadline)) return done(in_);
  }
  return true;
}

bool Peer::readUntilContains(std::string_view needle, Millis timeout) {
  return readUntil([&](const std::string& s) { return s.find(needle) != std::string::npos; },
                   timeout);
}

bool Peer::readUntilEof(Millis timeout) {
  readUntil([&](const std::string&) { return eof_; }, timeout);
  return eof_;
}

std::optional<std::string> Peer::nextLine(Millis timeout) {
  auto hasLine = [&](const std::string& s) {
    return s.find('\n', lineStart_) != std::string::npos;
  };
  if (!readUntil(hasLine, timeout)) return std::nullopt;
  auto end = in_.find('\n', lineStart_);
  std::string line = in_.substr(lineStart_, end - lineStart_);
  lineStart_ = end + 1;
  return line;
}

// --- RawListener ------------------------------------------------------------------------------

RawListener::RawListener() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throwErrno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 8) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throwErrno("listen");
  }
  port_ = ntohs(addr.sin_port);
}

RawListener::~RawListener() {
  closeFd(fd_);
}

std::unique_ptr<Peer> RawListener::accept(Millis timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return nullptr;
  int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  return fd < 0 ? nullptr : Peer::adopt(fd);
}

}  // namespace examples_test
