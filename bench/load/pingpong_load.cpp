// The common ping-pong load generator: raw epoll, one thread, the same for every server.
//   pingpong-load HOST PORT THREADS BLOCKSIZE SESSIONS SECONDS [--verify] [--server-pid PID]
// (the command line of Asio's and muduo's client). Connects SESSIONS sockets with TCP_NODELAY;
// once all are up each sends one block, then echoes whatever it reads. Counts the bytes read
// during SECONDS and prints one RESULT line; messages = bytes / BLOCKSIZE (block round trips).
// --verify checks every byte read against the block's byte at that stream position.
// --server-pid adds the server's CPU time over the same window (server_cpu_s).
#include <sys/epoll.h>

#include <string>
#include <vector>

#include "bench_util.hpp"

namespace {

struct Session {
  int fd = -1;
  bool connected = false;
  std::size_t offset = 0;  // stream position, for --verify
  std::string pending;     // echo bytes the kernel did not take yet
};

struct Options {
  const char* host;
  int port, blockSize, sessions;
  double seconds;
  bool verify;
  int serverPid;
};

class Load {
 public:
  explicit Load(const Options& o) : o_(o), sessions_(o.sessions) {
    for (int i = 0; i < o.blockSize; ++i)
      block_.push_back(bench::patternByte(i));
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  }

  int run() {
    connectAll();
    if (!waitConnected()) return 1;
    const double serverCpu0 = serverCpu();
    const double start = bench::now(), deadline = start + o_.seconds;
    measuring_ = true;
    for (std::size_t i = 0; i < sessions_.size(); ++i)
      sendBytes(i, block_.data(), block_.size());
    epoll_event events[1024];
    double t = start;
    while (t < deadline && failed_ == 0) {
      int timeout = static_cast<int>((deadline - t) * 1000) + 1;
      int n = ::epoll_wait(epfd_, events, 1024, timeout);
      for (int i = 0; i < n; ++i)
        onEvent(events[i].data.u32, events[i].events);
      t = bench::now();
    }
    const double elapsed = t - start;
    const double serverCpu1 = serverCpu();
    const double messages = static_cast<double>(bytes_) / o_.blockSize;
    std::printf(
        "RESULT bytes=%llu reads=%llu messages=%.0f seconds=%.6f mib_per_s=%.3f msgs_per_s=%.1f "
        "bad_bytes=%llu server_cpu_s=%.6f\n",
        static_cast<unsigned long long>(bytes_), static_cast<unsigned long long>(reads_), messages,
        elapsed, static_cast<double>(bytes_) / elapsed / (1 << 20), messages / elapsed,
        static_cast<unsigned long long>(bad_), serverCpu1 - serverCpu0);
    if (failed_) std::fprintf(stderr, "pingpong-load: %d sessions failed\n", failed_);
    return failed_ == 0 && bad_ == 0 && bytes_ > 0 ? 0 : 1;
  }

 private:
  double serverCpu() const { return o_.serverPid > 0 ? bench::processCpuSeconds(o_.serverPid) : 0; }

  void connectAll() {
    sockaddr_in sa = bench::ipv4(o_.host, o_.port);
    for (std::size_t i = 0; i < sessions_.size(); ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) bench::die("pingpong-load: socket: %s", std::strerror(errno));
      bench::setNoDelay(fd);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 && errno != EINPROGRESS)
        bench::die("pingpong-load: connect: %s", std::strerror(errno));
      sessions_[i].fd = fd;
      watch(i, EPOLLOUT, EPOLL_CTL_ADD);
    }
  }

  bool waitConnected() {
    std::size_t up = 0;
    const double deadline = bench::now() + 10;
    epoll_event events[1024];
    while (up < sessions_.size() && bench::now() < deadline) {
      int n = ::epoll_wait(epfd_, events, 1024, 100);
      for (int i = 0; i < n; ++i) {
        Session& s = sessions_[events[i].data.u32];
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) bench::die("pingpong-load: connect: %s", std::strerror(err));
        if (!s.connected) ++up;
        s.connected = true;
        watch(events[i].data.u32, EPOLLIN, EPOLL_CTL_MOD);
      }
    }
    if (up < sessions_.size())
      std::fprintf(stderr, "pingpong-load: %zu of %zu sessions connected\n", up, sessions_.size());
    return up == sessions_.size();
  }

  void watch(std::size_t i, uint32_t ev, int op) {
    epoll_event e{};
    e.events = ev;
    e.data.u32 = static_cast<uint32_t>(i);
    ::epoll_ctl(epfd_, op, sessions_[i].fd, &e);
  }

  void onEvent(std::size_t i, uint32_t ev) {
    Session& s = sessions_[i];
    if (ev & EPOLLOUT) {
      ssize_t w = ::send(s.fd, s.pending.data(), s.pending.size(), MSG_NOSIGNAL);
      if (w > 0) s.pending.erase(0, static_cast<std::size_t>(w));
      if (s.pending.empty()) watch(i, EPOLLIN, EPOLL_CTL_MOD);
      return;
    }
    ssize_t n = ::recv(s.fd, buf_, sizeof buf_, 0);
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      ++failed_;  // the server closed or reset a session
      return;
    }
    if (o_.verify) check(s, static_cast<std::size_t>(n));
    if (measuring_) {
      bytes_ += static_cast<std::uint64_t>(n);
      ++reads_;
    }
    sendBytes(i, buf_, static_cast<std::size_t>(n));
  }

  void check(Session& s, std::size_t n) {
    const std::size_t bs = block_.size();
    for (std::size_t k = 0; k < n; ++k, ++s.offset)
      if (buf_[k] != block_[s.offset % bs]) ++bad_;
  }

  void sendBytes(std::size_t i, const char* data, std::size_t n) {
    Session& s = sessions_[i];
    if (!s.pending.empty()) {
      s.pending.append(data, n);
      return;
    }
    ssize_t w = ::send(s.fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno != EAGAIN) {
        ++failed_;
        return;
      }
      w = 0;
    }
    if (static_cast<std::size_t>(w) < n) {
      s.pending.assign(data + w, n - static_cast<std::size_t>(w));
      watch(i, EPOLLOUT, EPOLL_CTL_MOD);
    }
  }

  Options o_;
  std::vector<Session> sessions_;
  std::string block_;
  int epfd_;
  bool measuring_ = false;
  int failed_ = 0;
  std::uint64_t bytes_ = 0, reads_ = 0, bad_ = 0;
  char buf_[64 * 1024];
};

}  // namespace

int main(int argc, char** argv) {
  const char* usage =
      "usage: pingpong-load HOST PORT THREADS BLOCKSIZE SESSIONS SECONDS [--verify] "
      "[--server-pid PID]";
  if (argc < 7) bench::die("%s", usage);
  Options o{};
  o.host = argv[1];
  o.port = static_cast<int>(bench::parseInt(argv[2], "PORT", 1, 65535));
  if (bench::parseInt(argv[3], "THREADS", 1, 64) != 1)
    bench::die("pingpong-load: only THREADS=1 is supported (pin it to one core)");
  o.blockSize = static_cast<int>(bench::parseInt(argv[4], "BLOCKSIZE", 1, 1 << 24));
  o.sessions = static_cast<int>(bench::parseInt(argv[5], "SESSIONS", 1, 100000));
  o.seconds = bench::parseSeconds(argv[6], "SECONDS");
  for (int i = 7; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--verify") {
      o.verify = true;
    } else if (a == "--server-pid" && i + 1 < argc) {
      o.serverPid = static_cast<int>(bench::parseInt(argv[++i], "--server-pid", 1, 1 << 30));
    } else {
      bench::die("%s", usage);
    }
  }
  bench::raiseFdLimit();
  static Load load(o);
  return load.run();
}
