#include "support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <gtest/gtest.h>

extern char** environ;

namespace examples_test {

namespace {

using SteadyClock = std::chrono::steady_clock;

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Reads what `fd` holds now into `into`; closes it at EOF.
void drain(int& fd, std::string& into) {
  char buf[65536];
  while (fd >= 0) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      closeFd(fd);
    } else if (errno != EINTR) {
      if (errno != EAGAIN) closeFd(fd);
      return;
    }
  }
}

int millisLeft(SteadyClock::time_point until) {
  auto left = std::chrono::duration_cast<Millis>(until - SteadyClock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

// --- Child ------------------------------------------------------------------------------------

Child::Child(std::vector<std::string> argv) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) fail("pipe2");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]), ::close(out[1]);
    fail("pipe2");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(a.data());
  args.push_back(nullptr);
  int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]), ::close(err[1]);
  outFd_ = out[0], errFd_ = err[0];
  if (rc != 0) {
    closeFd(outFd_), closeFd(errFd_);
    throw std::runtime_error("posix_spawn " + argv[0] + ": " + std::strerror(rc));
  }
  ::fcntl(outFd_, F_SETFL, O_NONBLOCK);
  ::fcntl(errFd_, F_SETFL, O_NONBLOCK);
  // A pidfd turns readable when the process exits, so exit is polled along with the pipes.
  pidFd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
}

Child::~Child() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
  }
  closeFd(outFd_), closeFd(errFd_), closeFd(pidFd_);
}

void Child::signal(int sig) {
  if (!status_) ::kill(pid_, sig);
}

void Child::reap() {
  int st = 0;
  if (::waitpid(pid_, &st, WNOHANG) != pid_) return;
  status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  closeFd(pidFd_);
}

void Child::pump(SteadyClock::time_point until) {
  pollfd fds[3];
  nfds_t n = 0;
  for (int fd : {outFd_, errFd_, pidFd_}) {
    if (fd >= 0) fds[n++] = {fd, POLLIN, 0};
  }
  int left = millisLeft(until);
  // Without a pidfd (kernels before 5.3), look at waitpid at least every 10 ms.
  if (pidFd_ < 0 && !status_) left = std::min(left, 10);
  if (n > 0) ::poll(fds, n, left);
  drain(outFd_, out_);
  drain(errFd_, err_);
  if (!status_) reap();
}

bool Child::waitUntil(const std::function<bool()>& done, Millis timeout) {
  auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (status_ && outFd_ < 0 && errFd_ < 0) return done();
    if (SteadyClock::now() >= deadline) return done();
    pump(deadline);
  }
}

bool Child::waitForStdout(std::string_view needle, Millis timeout) {
  return waitUntil([&] { return out_.find(needle) != std::string::npos; }, timeout);
}

bool Child::waitForStderr(std::string_view needle, Millis timeout) {
  return waitUntil([&] { return err_.find(needle) != std::string::npos; }, timeout);
}

std::optional<int> Child::wait(Millis timeout) {
  waitUntil([&] { return status_ && outFd_ < 0 && errFd_ < 0; }, timeout);
  return status_;
}

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
  args.insert(args.begin(), bin);
  Server server;
  server.child = std::make_unique<Child>(std::move(args));
  // The first complete line ending "on port N." (a path printed before it may hold anything).
  auto port = [&]() -> int {
    const std::string& out = server.child->out();
    auto end = out.find('\n');
    if (end == std::string::npos || end == 0 || out[end - 1] != '.') return 0;
    auto at = out.rfind(" on port ", end);
    if (at == std::string::npos) return 0;
    return std::atoi(out.c_str() + at + 9);
  };
  bool up = server.child->waitUntil([&] { return port() > 0; });
  EXPECT_TRUE(up) << bin << " did not announce its port; stdout: " << server.child->out()
                  << "\nstderr: " << server.child->err();
  server.port = port();
  return server;
}

std::unique_ptr<Child> run(const std::string& bin, std::vector<std::string> args, Millis timeout) {
  args.insert(args.begin(), bin);
  auto child = std::make_unique<Child>(std::move(args));
  EXPECT_TRUE(child->wait(timeout).has_value())
      << bin << " still running after " << timeout.count() << " ms; stdout so far:\n"
      << child->out();
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
  if (fd_ < 0) fail("socket");
  // Connecting on loopback completes (or is refused) at once: no wait to bound.
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    int saved = errno;
    closeFd(fd_);
    errno = saved;
    fail("connect to " + host + ":" + std::to_string(port));
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
      if (::poll(&p, 1, millisLeft(deadline)) == 0) throw std::runtime_error("send timed out");
    } else if (n < 0 && errno != EINTR) {
      fail("send");
    }
  }
}

bool Peer::pump(SteadyClock::time_point until) {
  if (eof_) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, millisLeft(until)) <= 0) return SteadyClock::now() < until;
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
  if (fd_ < 0) fail("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 8) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    fail("listen");
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

// --- Odds and ends ----------------------------------------------------------------------------

int closedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool ipv6LoopbackAvailable() {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace examples_test
