// Accepting while out of descriptors (EMFILE): the pending client learns at once that it was
// refused, the loop does not spin on the still-readable listener, and accepting resumes once
// descriptors free up. Made deterministic as LESSONS.md says: a child process lowers
// RLIMIT_NOFILE and fills it with dup().
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>

#include "support.hpp"

namespace spindle::test {
namespace {

enum ChildExit { kOk = 0, kSetupFailed = 10, kSpun = 11, kNoEcho = 12, kWatchdog = 13 };

double cpuSeconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](timeval tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

/// The child: listens, runs out of descriptors, tells the parent its port; after a quiet window
/// (in which the parent's first client arrives) checks it did not spin, frees the descriptors,
/// tells the parent, and serves one echo.
int childMain(int toParent) {
  log::setSink([](log::Level, std::string_view) {});
  Reactor reactor;
  int result = kOk;
  reactor.callLater(5, [&] {
    result = kWatchdog;
    reactor.stop();
  });
  auto factory = std::make_shared<ServerFactory>();
  int echoes = 0;
  struct Counting : Protocol {
    int* echoes;
    Reactor* reactor;
    void dataReceived(std::string_view d) override {
      transport->write(d);
      transport->loseConnection();
    }
    void connectionLost(const Failure&) override {
      if (++*echoes == 1) reactor->stop();
    }
  };
  factory->protocol = [&] {
    auto p = std::make_unique<Counting>();
    p->echoes = &echoes;
    p->reactor = &reactor;
    return p;
  };
  auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
  uint16_t number = port->getHost().port();
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = std::min<rlim_t>(256, lim.rlim_max);
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) return kSetupFailed;
  std::vector<int> dups;
  for (int fd; (fd = ::dup(toParent)) >= 0;)  // not fd 0: stdin may be closed
    dups.push_back(fd);
  if (errno != EMFILE) return kSetupFailed;

  if (::write(toParent, &number, sizeof number) != sizeof number) return kSetupFailed;
  double cpuAtStart = cpuSeconds();
  reactor.callLater(0.5, [&] {
    if (cpuSeconds() - cpuAtStart > 0.25) result = kSpun;
    for (int fd : dups)
      ::close(fd);
    char freed = 'f';
    if (::write(toParent, &freed, 1) != 1) result = kSetupFailed;
  });
  reactor.run();
  if (result == kOk && echoes != 1) result = kNoEcho;
  return result;
}

/// Waits up to `ms` for `fd` to become readable.
bool readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

TEST(TcpEmfile, PendingClientIsClosedLoopDoesNotSpinAndAcceptingResumes) {
#if defined(__SANITIZE_ADDRESS__)
  // Caveat: the sanitizer build also has UBSan, whose vptr check probes memory through a pipe;
  // with no descriptor left that probe fails and UBSan reports every uncached virtual call as
  // a bad object. The test cannot run there; the plain build runs it.
  GTEST_SKIP() << "needs free descriptors under UBSan";
#endif
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  Fd fromChild(fds[0]), toParent(fds[1]);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    fromChild.close();
    ::_exit(childMain(toParent.get()));
  }
  toParent.close();

  uint16_t number = 0;
  if (!readable(fromChild.get(), 5000) ||
      ::read(fromChild.get(), &number, sizeof number) != static_cast<ssize_t>(sizeof number)) {
    int status = 0;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    FAIL() << "the child never reported its port; wait status " << status;
  }

  // A client while the server has no descriptor left: it must be closed, not left hanging.
  Fd first = rawConnect(number);
  ASSERT_TRUE(first);
  EXPECT_TRUE(readable(first.get(), 3000)) << "the client was left hanging in the accept queue";
  char buf[16];
  EXPECT_LE(::recv(first.get(), buf, sizeof buf, 0), 0) << "expected EOF or a reset";

  // Once the child freed its descriptors, a new client is served.
  char freed = 0;
  if (!readable(fromChild.get(), 5000) || ::read(fromChild.get(), &freed, 1) != 1) {
    int status = 0;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    FAIL() << "the child never said it freed its descriptors; wait status " << status;
  }
  Fd second = rawConnect(number);
  ASSERT_TRUE(second);
  ASSERT_EQ(::send(second.get(), "hello", 5, MSG_NOSIGNAL), 5);
  std::string echoed;
  while (echoed.size() < 5 && readable(second.get(), 3000)) {
    ssize_t n = ::recv(second.get(), buf, sizeof buf, 0);
    if (n <= 0) break;
    echoed.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(echoed, "hello") << "accepting did not resume after descriptors freed up";

  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died: status " << status;
  EXPECT_NE(WEXITSTATUS(status), kSpun) << "the loop burned CPU on the unacceptable listener";
  EXPECT_NE(WEXITSTATUS(status), kSetupFailed);
  EXPECT_NE(WEXITSTATUS(status), kWatchdog);
  EXPECT_EQ(WEXITSTATUS(status), kOk);
}

}  // namespace
}  // namespace spindle::test
