// SIGINT/SIGTERM handling for Reactor::run({.installSignalHandlers = true}): a handler writes the
// signal number into a pipe that the reactor watches, so the stop happens on the loop thread.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>

#include "reactor_impl.hpp"
#include "spindle/log.hpp"

namespace spindle {

namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM};
std::atomic<int> gSignalWriteFd{-1};
struct sigaction gPrevious[std::size(kSignals)];

extern "C" void onSignal(int signo) {
  int saved = errno;
  int fd = gSignalWriteFd.load();
  if (fd >= 0) {
    unsigned char byte = static_cast<unsigned char>(signo);
    [[maybe_unused]] ssize_t n = ::write(fd, &byte, 1);
  }
  errno = saved;
}

class SignalReader : public FileDescriptor {
 public:
  SignalReader(Reactor& reactor, int fd) : reactor_(reactor), fd_(fd) {}
  int fileno() const override { return fd_; }
  void doRead() override {
    unsigned char buf[64];
    ssize_t n;
    while ((n = ::read(fd_, buf, sizeof buf)) > 0) {
      for (ssize_t i = 0; i < n; ++i) {
        log::info("Received {}, shutting down.", sigabbrev_np(buf[i]) ? sigabbrev_np(buf[i]) : "?");
      }
      if (reactor_.running()) reactor_.stop();
    }
  }
  void doWrite() override {}
  void connectionLost(const Failure&) override {}

 private:
  Reactor& reactor_;
  int fd_;
};

}  // namespace

void Reactor::Impl::installSignalHandlers() {
  if (signalReader) return;
  if (gSignalWriteFd.load() >= 0) {
    log::msg(log::Level::Warn, "another reactor handles signals; not installing handlers");
    return;
  }
  if (::pipe2(signalPipe, O_NONBLOCK | O_CLOEXEC) < 0) {
    throw SystemError("pipe2 failed", {errno, std::system_category()});
  }
  signalReader = std::make_unique<SignalReader>(self, signalPipe[0]);
  self.addReader(*signalReader);
  gSignalWriteFd.store(signalPipe[1]);
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (std::size_t i = 0; i < std::size(kSignals); ++i)
    ::sigaction(kSignals[i], &sa, &gPrevious[i]);
}

void Reactor::Impl::restoreSignalHandlers() {
  if (!signalReader) return;
  for (std::size_t i = 0; i < std::size(kSignals); ++i)
    ::sigaction(kSignals[i], &gPrevious[i], nullptr);
  gSignalWriteFd.store(-1);
  self.removeAll(*signalReader);
  signalReader.reset();
  ::close(signalPipe[0]);
  ::close(signalPipe[1]);
  signalPipe[0] = signalPipe[1] = -1;
}

}  // namespace spindle
