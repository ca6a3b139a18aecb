// The common poetry fan-in load generator: raw epoll, one thread, the same for every server.
//   poetry-load HOST PORT CONNECTIONS ROUNDS POEM_BYTES [--seconds S] [--verify FILE]
//               [--server-pid PID] [--round-timeout S]
// Each round opens CONNECTIONS connections at once and reads every one to EOF; a poem counts
// when exactly POEM_BYTES arrived (and, with --verify, they equal FILE). Stops after ROUNDS
// rounds or, at a round's end, once S seconds (default 10) have passed; gives up on a round
// that takes longer than --round-timeout seconds (default 30). Prints one RESULT line; with
// --server-pid it includes the server's CPU time over the run (server_cpu_s).
#include <sys/epoll.h>

#include <string>
#include <vector>

#include "bench_util.hpp"

namespace {

struct Options {
  const char* host;
  int port, connections, rounds;
  std::size_t poemBytes;
  double seconds = 10;
  std::string expected;  // the poem, with --verify
  int serverPid = 0;
  double roundTimeout = 30;
};

class Load {
 public:
  explicit Load(Options o) : o_(std::move(o)), received_(o_.connections), fds_(o_.connections) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  }

  int run() {
    const double serverCpu0 = serverCpu();
    const double start = bench::now();
    int rounds = 0;
    bool timedOut = false;
    while (rounds < o_.rounds) {
      if (!round()) {
        timedOut = true;
        break;
      }
      ++rounds;
      if (bench::now() - start >= o_.seconds) break;
    }
    const double elapsed = bench::now() - start;
    const double serverCpu1 = serverCpu();
    std::printf(
        "RESULT poems=%llu bad_poems=%llu rounds=%d bytes=%llu seconds=%.6f poems_per_s=%.1f "
        "mib_per_s=%.3f server_cpu_s=%.6f\n",
        static_cast<unsigned long long>(poems_), static_cast<unsigned long long>(bad_), rounds,
        static_cast<unsigned long long>(bytes_), elapsed, poems_ / elapsed,
        static_cast<double>(bytes_) / elapsed / (1 << 20), serverCpu1 - serverCpu0);
    if (timedOut)
      std::fprintf(stderr, "poetry-load: a round did not finish within %g s\n", o_.roundTimeout);
    return !timedOut && bad_ == 0 && poems_ > 0 ? 0 : 1;
  }

 private:
  double serverCpu() const { return o_.serverPid > 0 ? bench::processCpuSeconds(o_.serverPid) : 0; }

  // One round: every connection opened at once and read to EOF. False if it took over 30 s.
  bool round() {
    sockaddr_in sa = bench::ipv4(o_.host, o_.port);
    for (int i = 0; i < o_.connections; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) bench::die("poetry-load: socket: %s", std::strerror(errno));
      if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 && errno != EINPROGRESS)
        bench::die("poetry-load: connect: %s", std::strerror(errno));
      fds_[i] = fd;
      received_[i] = 0;
      epoll_event e{};
      e.events = EPOLLIN;
      e.data.u32 = static_cast<uint32_t>(i);
      ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &e);
    }
    int open = o_.connections;
    const double deadline = bench::now() + o_.roundTimeout;
    epoll_event events[1024];
    while (open > 0) {
      if (bench::now() > deadline) {
        for (int i = 0; i < o_.connections; ++i)
          if (fds_[i] >= 0) finish(i, false);
        return false;
      }
      int n = ::epoll_wait(epfd_, events, 1024, 1000);
      for (int k = 0; k < n; ++k)
        if (drain(events[k].data.u32)) --open;
    }
    return true;
  }

  // Reads what is there; true once the connection ended (and was counted).
  bool drain(int i) {
    for (;;) {
      ssize_t n = ::recv(fds_[i], buf_, sizeof buf_, 0);
      if (n > 0) {
        std::size_t at = received_[i];
        received_[i] += static_cast<std::size_t>(n);
        bytes_ += static_cast<std::uint64_t>(n);
        if (!o_.expected.empty() &&
            (received_[i] > o_.expected.size() ||
             std::memcmp(buf_, o_.expected.data() + at, static_cast<std::size_t>(n)) != 0))
          corrupt_ = true;
        if (static_cast<std::size_t>(n) < sizeof buf_) return false;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return false;
      finish(i, n == 0);
      return true;
    }
  }

  void finish(int i, bool cleanEof) {
    ::close(fds_[i]);  // also leaves the epoll set
    fds_[i] = -1;
    if (cleanEof && received_[i] == o_.poemBytes && !corrupt_) {
      ++poems_;
    } else {
      ++bad_;
    }
  }

  Options o_;
  std::vector<std::size_t> received_;
  std::vector<int> fds_;
  int epfd_;
  bool corrupt_ = false;
  std::uint64_t poems_ = 0, bad_ = 0, bytes_ = 0;
  char buf_[64 * 1024];
};

}  // namespace

int main(int argc, char** argv) {
  const char* usage =
      "usage: poetry-load HOST PORT CONNECTIONS ROUNDS POEM_BYTES [--seconds S] [--verify FILE] "
      "[--server-pid PID] [--round-timeout S]";
  if (argc < 6) bench::die("%s", usage);
  Options o{};
  o.host = argv[1];
  o.port = static_cast<int>(bench::parseInt(argv[2], "PORT", 1, 65535));
  o.connections = static_cast<int>(bench::parseInt(argv[3], "CONNECTIONS", 1, 60000));
  o.rounds = static_cast<int>(bench::parseInt(argv[4], "ROUNDS", 1, 1000000));
  o.poemBytes = static_cast<std::size_t>(bench::parseInt(argv[5], "POEM_BYTES", 1, 1LL << 32));
  for (int i = 6; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      o.seconds = bench::parseSeconds(argv[++i], "--seconds");
    } else if (a == "--verify" && i + 1 < argc) {
      o.expected = bench::readFile(argv[++i]);
      if (o.expected.size() != o.poemBytes)
        bench::die("poetry-load: --verify file is not POEM_BYTES long");
    } else if (a == "--round-timeout" && i + 1 < argc) {
      o.roundTimeout = bench::parseSeconds(argv[++i], "--round-timeout");
    } else if (a == "--server-pid" && i + 1 < argc) {
      o.serverPid = static_cast<int>(bench::parseInt(argv[++i], "--server-pid", 1, 1 << 30));
    } else {
      bench::die("%s", usage);
    }
  }
  bench::raiseFdLimit();
  static Load load(std::move(o));
  return load.run();
}
