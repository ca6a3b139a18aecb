// The physical reference for poetry fan-in: on each accepted connection, send the whole poem
// from one shared copy (no per-connection copy), then close. Level-triggered epoll, one thread.
// Usage: epoll-poetry-server [--port N] [--iface ADDR] [--delay 0] POETRY-FILE
#include <sys/epoll.h>

#include <vector>

#include "bench_util.hpp"

namespace {

class Server {
 public:
  Server(const bench::PoetryArgs& a, std::string poem)
      : listenFd_(bench::listenOn(a.iface.c_str(), a.port)), poem_(std::move(poem)) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.fd = listenFd_;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, listenFd_, &e);
  }
  int port() const { return bench::boundPort(listenFd_); }

  [[noreturn]] void run() {
    epoll_event events[256];
    for (;;) {
      int n = ::epoll_wait(epfd_, events, 256, -1);
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == listenFd_) {
          acceptAll();
        } else {
          send(fd);
        }
      }
    }
  }

 private:
  void acceptAll() {
    for (int i = 0; i < 64; ++i) {
      int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      if (static_cast<std::size_t>(fd) >= offset_.size())
        offset_.resize(fd + 1);  // grows geometrically
      offset_[fd] = 0;
      if (!send(fd)) continue;
      epoll_event e{};
      e.events = EPOLLOUT;
      e.data.fd = fd;
      ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &e);
    }
  }

  // Sends what the kernel takes; returns true while bytes remain (the socket stays open).
  bool send(int fd) {
    std::size_t& off = offset_[fd];
    while (off < poem_.size()) {
      ssize_t w = ::send(fd, poem_.data() + off, poem_.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0) {
        if (errno == EAGAIN) return true;
        if (errno == EINTR) continue;
        break;
      }
      off += static_cast<std::size_t>(w);
    }
    ::close(fd);
    return false;
  }

  int listenFd_;
  int epfd_;
  std::string poem_;
  std::vector<std::size_t> offset_;
};

}  // namespace

int main(int argc, char** argv) {
  auto a = bench::parsePoetryArgs(argc, argv, "epoll-poetry-server");
  bench::raiseFdLimit();
  static Server server(a, bench::readFile(a.file));
  bench::announceServing(a.file, server.port());
  server.run();
}
