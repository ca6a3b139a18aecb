// The physical reference: a hand-written echo server on level-triggered epoll, one thread.
// Per connection it holds only a descriptor-indexed slot; reads go to one shared 64 KiB buffer
// and are echoed at once; only what the kernel refuses is queued (then reading pauses).
// Usage: epoll-pingpong-server ADDR PORT THREADS BLOCKSIZE
#include <sys/epoll.h>

#include <string>
#include <vector>

#include "bench_util.hpp"

namespace {

struct Conn {
  std::string pending;  // echo bytes the kernel did not take yet; empty almost always
};

class Server {
 public:
  Server(const char* host, int port) : listenFd_(bench::listenOn(host, port)) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    watch(listenFd_, EPOLLIN, EPOLL_CTL_ADD);
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
          if (events[i].events & EPOLLOUT) flush(fd);
          if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) readEcho(fd);
        }
      }
    }
  }

 private:
  void watch(int fd, uint32_t ev, int op) {
    epoll_event e{};
    e.events = ev;
    e.data.fd = fd;
    ::epoll_ctl(epfd_, op, fd, &e);
  }

  void acceptAll() {
    for (int i = 0; i < 64; ++i) {
      int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      bench::setNoDelay(fd);
      if (static_cast<std::size_t>(fd) >= conns_.size())
        conns_.resize(fd + 1);  // grows geometrically
      watch(fd, EPOLLIN, EPOLL_CTL_ADD);
    }
  }

  void closeConn(int fd) {
    ::close(fd);  // also removes it from the epoll set
    std::string().swap(conns_[fd].pending);
  }

  void readEcho(int fd) {
    Conn& c = conns_[fd];
    if (!c.pending.empty()) return;  // paused until the queue drains
    for (;;) {
      ssize_t n = ::recv(fd, buf_, sizeof buf_, 0);
      if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        closeConn(fd);
        return;
      }
      ssize_t w = ::send(fd, buf_, n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0 && errno != EAGAIN) {
        closeConn(fd);
        return;
      }
      if (w < n) {
        c.pending.assign(buf_ + std::max<ssize_t>(w, 0), buf_ + n);
        watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
        return;
      }
      if (static_cast<std::size_t>(n) < sizeof buf_) return;
    }
  }

  void flush(int fd) {
    Conn& c = conns_[fd];
    ssize_t w = ::send(fd, c.pending.data(), c.pending.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno != EAGAIN) return closeConn(fd);
    if (w > 0) c.pending.erase(0, w);
    if (c.pending.empty()) watch(fd, EPOLLIN, EPOLL_CTL_MOD);
  }

  int listenFd_;
  int epfd_;
  std::vector<Conn> conns_;
  char buf_[64 * 1024];
};

}  // namespace

int main(int argc, char** argv) {
  auto a = bench::parseServerArgs(argc, argv, "epoll-pingpong-server");
  bench::raiseFdLimit();
  static Server server(a.host, a.port);
  bench::announceListening("epoll-pingpong-server", a.host, server.port());
  server.run();
}
