// The common connection-rate load generator (libuv's "pound"): raw epoll, one thread.
//   pound-load HOST PORT CONCURRENCY SECONDS [--reset] [--sources N] [--server-pid PID]
// Keeps CONCURRENCY connections outstanding; each connects, writes "PING", reads the 4-byte
// echo, checks it, closes and is replaced by a new one. Prints one RESULT line with the
// connections completed in SECONDS (and with --server-pid, the server's CPU time meanwhile), and
// how many epoll_waits that took (connections per wait show how much each wake-up batched).
//
// Ephemeral ports: this side closes first, so each finished connection leaves a TIME_WAIT
// socket here. Linux reuses them for new outgoing loopback connections after about a second
// (net.ipv4.tcp_tw_reuse=2, the default), which caps one source address at roughly the port
// range (28k) per second. --sources N spreads connections over source addresses 127.0.0.1 ..
// 127.0.0.N (still loopback) to lift that cap; the driver reports connect errors if it binds.
// --reset closes each finished connection with a reset (SO_LINGER 0) instead of a FIN, so no
// TIME_WAIT is left and the rate is bounded by CPU (the server's or this program's), not by
// ports; the server then reads ECONNRESET where it would have read end of stream.
#include <sys/epoll.h>

#include <vector>

#include "bench_util.hpp"

namespace {

constexpr char kMessage[] = "PING";
constexpr std::size_t kLen = sizeof kMessage - 1;

struct Slot {
  int fd = -1;
  bool connected = false;
  std::size_t got = 0;
  char echo[kLen];
};

class Pound {
 public:
  Pound(const char* host, int port, int concurrency, bool reset, int sources, int serverPid)
      : target_(bench::ipv4(host, port)),
        slots_(concurrency),
        reset_(reset),
        sources_(sources),
        serverPid_(serverPid) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  }

  int run(double seconds) {
    const double serverCpu0 = serverCpu();
    const double start = bench::now(), deadline = start + seconds;
    for (std::size_t i = 0; i < slots_.size(); ++i)
      open(i);
    epoll_event events[1024];
    double t = start;
    while (t < deadline && fatal_ == 0) {
      int timeout = retry_.empty() ? static_cast<int>((deadline - t) * 1000) + 1 : 1;
      int n = ::epoll_wait(epfd_, events, 1024, timeout);
      ++waits_;
      for (int k = 0; k < n; ++k)
        onEvent(events[k].data.u32, events[k].events);
      t = bench::now();
      retryFailedOpens();
    }
    const double elapsed = t - start;
    const double serverCpu1 = serverCpu();
    std::printf(
        "RESULT connections=%llu errors=%llu bad_echoes=%llu seconds=%.6f conns_per_s=%.1f "
        "server_cpu_s=%.6f waits=%llu\n",
        static_cast<unsigned long long>(done_), static_cast<unsigned long long>(errors_),
        static_cast<unsigned long long>(badEchoes_), elapsed, done_ / elapsed,
        serverCpu1 - serverCpu0, static_cast<unsigned long long>(waits_));
    return done_ > 0 && badEchoes_ == 0 && fatal_ == 0 ? 0 : 1;
  }

 private:
  double serverCpu() const { return serverPid_ > 0 ? bench::processCpuSeconds(serverPid_) : 0; }

  void open(std::size_t i) {
    Slot& s = slots_[i];
    s = Slot{};
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) bench::die("pound-load: socket: %s", std::strerror(errno));
    if (sources_ > 1) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      sockaddr_in src{};
      src.sin_family = AF_INET;
      src.sin_addr.s_addr = htonl(0x7f000001u + static_cast<uint32_t>(next_++ % sources_));
      ::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src);
    }
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&target_), sizeof target_) < 0 &&
        errno != EINPROGRESS) {
      // EADDRNOTAVAIL: no ephemeral port free yet; ECONNREFUSED: backlog full. Retry later.
      ++errors_;
      ::close(fd);
      retry_.push_back(i);
      return;
    }
    s.fd = fd;
    epoll_event e{};
    e.events = EPOLLOUT;
    e.data.u32 = static_cast<uint32_t>(i);
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &e);
  }

  void retryFailedOpens() {
    if (retry_.empty()) return;
    std::vector<std::size_t> again;
    again.swap(retry_);
    for (std::size_t i : again)
      open(i);
  }

  void fail(std::size_t i) {
    ++errors_;
    if (errors_ > 100000) ++fatal_;
    ::close(slots_[i].fd);
    open(i);
  }

  void onEvent(std::size_t i, uint32_t ev) {
    Slot& s = slots_[i];
    if (!s.connected) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || ::send(s.fd, kMessage, kLen, MSG_NOSIGNAL) != static_cast<ssize_t>(kLen))
        return fail(i);
      s.connected = true;
      epoll_event e{};
      e.events = EPOLLIN;
      e.data.u32 = static_cast<uint32_t>(i);
      ::epoll_ctl(epfd_, EPOLL_CTL_MOD, s.fd, &e);
      return;
    }
    (void)ev;
    ssize_t n = ::recv(s.fd, s.echo + s.got, kLen - s.got, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return fail(i);
    s.got += static_cast<std::size_t>(n);
    if (s.got < kLen) return;
    if (std::memcmp(s.echo, kMessage, kLen) != 0) ++badEchoes_;
    ++done_;
    if (reset_) {
      linger hard{1, 0};
      ::setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    }
    ::close(s.fd);
    open(i);
  }

  sockaddr_in target_;
  std::vector<Slot> slots_;
  std::vector<std::size_t> retry_;
  bool reset_;
  int sources_;
  int serverPid_;
  std::uint32_t next_ = 0;
  int epfd_;
  int fatal_ = 0;
  std::uint64_t done_ = 0, errors_ = 0, badEchoes_ = 0;
  std::uint64_t waits_ = 0;  // epoll_wait calls: fewer per connection means bigger batches
};

}  // namespace

int main(int argc, char** argv) {
  const char* usage =
      "usage: pound-load HOST PORT CONCURRENCY SECONDS [--reset] [--sources N] "
      "[--server-pid PID]";
  if (argc < 5) bench::die("%s", usage);
  int port = static_cast<int>(bench::parseInt(argv[2], "PORT", 1, 65535));
  int concurrency = static_cast<int>(bench::parseInt(argv[3], "CONCURRENCY", 1, 20000));
  double seconds = bench::parseSeconds(argv[4], "SECONDS");
  int sources = 1, serverPid = 0;
  bool reset = false;
  for (int i = 5; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--reset") {
      reset = true;
    } else if (a == "--sources" && i + 1 < argc) {
      sources = static_cast<int>(bench::parseInt(argv[++i], "--sources", 1, 250));
    } else if (a == "--server-pid" && i + 1 < argc) {
      serverPid = static_cast<int>(bench::parseInt(argv[++i], "--server-pid", 1, 1 << 30));
    } else {
      bench::die("%s", usage);
    }
  }
  bench::raiseFdLimit();
  Pound pound(argv[1], port, concurrency, reset, sources, serverPid);
  return pound.run(seconds);
}
