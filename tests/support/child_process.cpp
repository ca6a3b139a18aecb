#include "support/child_process.hpp"

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
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <gtest/gtest.h>

extern char** environ;

namespace spindle::test {

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

}  // namespace

// --- Child ------------------------------------------------------------------------------------

Child::Child(std::vector<std::string> argv) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throwErrno("pipe2");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]), ::close(out[1]);
    throwErrno("pipe2");
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
  int left = millisUntil(until);
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
  if (status_ && (outFd_ >= 0 || errFd_ >= 0)) {
    // Exited, but something else (a grandchild) still holds its pipes open: keep what arrived.
    drain(outFd_, out_), drain(errFd_, err_);
  }
  return status_;
}

// --- Running programs -------------------------------------------------------------------------

ServerChild spawnServer(const std::string& bin, std::vector<std::string> args) {
  args.insert(args.begin(), bin);
  ServerChild server;
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

std::unique_ptr<Child> runToExit(const std::string& bin, std::vector<std::string> args,
                                 Millis timeout) {
  args.insert(args.begin(), bin);
  auto child = std::make_unique<Child>(std::move(args));
  EXPECT_TRUE(child->wait(timeout).has_value())
      << bin << " still running after " << timeout.count() << " ms; stdout so far:\n"
      << child->out();
  return child;
}

int millisUntil(SteadyClock::time_point until) {
  auto left = std::chrono::duration_cast<Millis>(until - SteadyClock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
}

void throwErrno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
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

}  // namespace spindle::test
