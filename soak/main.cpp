// spindle-soak: many concurrent connections streaming checksummed data both ways (issue 5).
//
//   spindle-soak [--connections N] [--seconds S] [--batch N] [--max-frame BYTES] [--seed N]
//                [--connect-timeout S] [--end-timeout S] [--ipv6] [--inject flip|drop]
//
// Starts itself again as the server (a child process, --serve), runs the client here, and
// prints connections held, bytes moved each way, errors, lost and corrupted bytes, peak RSS of
// both processes and the time of each phase. See soak/README.md.
//
// Exit status: 0 pass; 1 fail (any lost or corrupted byte, any error, fewer connections held
// than asked); 2 usage; 77 this machine cannot run the test as asked (descriptor limit,
// ephemeral ports): CTest reports that as skipped.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "roles.hpp"

namespace soak {
namespace {

constexpr int kCannotRun = 77;

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "spindle-soak: %s\nusage: spindle-soak [--connections N] [--seconds S] "
               "[--batch N] [--max-frame BYTES] [--seed N] [--connect-timeout S] "
               "[--end-timeout S] [--ipv6] [--inject flip|drop]\n",
               why.c_str());
  std::exit(2);
}

double parseNumber(const char* text, const std::string& what, double lo, double hi) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !(v >= lo && v <= hi)) {
    usage("bad " + what + " '" + text + "'");
  }
  return v;
}

Options parseOptions(int argc, char** argv, bool& serve) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](double lo, double hi) {
      if (i + 1 >= argc) usage(arg + " needs a value");
      return parseNumber(argv[++i], arg, lo, hi);
    };
    auto count = [&](double lo, double hi) {
      const double v = value(lo, hi);
      if (v != static_cast<double>(static_cast<std::uint64_t>(v)))
        usage(arg + " takes a whole number");
      return static_cast<std::uint64_t>(v);
    };
    if (arg == "--connections") {
      o.connections = count(1, 1e6);
    } else if (arg == "--seconds") {
      o.seconds = value(0.001, 86400);
    } else if (arg == "--batch") {
      o.batch = count(1, 65535);
    } else if (arg == "--max-frame") {
      o.maxFrame = count(1, 1 << 20);
    } else if (arg == "--seed") {
      o.seed = count(0, 1e15);
    } else if (arg == "--connect-timeout") {
      o.connectTimeout = value(0.001, 86400);
    } else if (arg == "--end-timeout") {
      o.endTimeout = value(0.001, 86400);
    } else if (arg == "--inject") {
      const std::string what = i + 1 < argc ? argv[++i] : "";
      if (what != "flip" && what != "drop") usage("--inject takes flip or drop");
      o.inject = what == "flip" ? Fault::FlipBit : Fault::DropFrame;
    } else if (arg == "--ipv6") {
      o.ipv6 = true;
    } else if (arg == "--serve") {
      serve = true;
    } else if (arg == "--deadline") {
      o.serverDeadline = value(0.001, 1e6);
    } else {
      usage("unknown argument '" + arg + "'");
    }
  }
  return o;
}

// Every connection goes from one client address to one server address and port, so each
// needs its own ephemeral port: the range must hold them all (the client closes last only
// after the server, so no TIME_WAIT piles up on the client's side).
std::string checkPortRange(std::uint64_t connections) {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned long lo = 0, hi = 0;
  if (!(in >> lo >> hi) || hi < lo) return {};  // not Linux-like: let connect() tell
  const std::uint64_t ports = hi - lo + 1;
  if (connections + 256 <= ports) return {};
  return "the ephemeral port range (net.ipv4.ip_local_port_range " + std::to_string(lo) + "-" +
         std::to_string(hi) + ") has " + std::to_string(ports) + " ports, too few for " +
         std::to_string(connections) + " connections from one address";
}

/// The server child: started with pipes on its stdin and stdout, killed and reaped by the
/// destructor if it is still there, so the driver never leaves it behind.
class ServerProcess {
 public:
  ~ServerProcess() {
    if (in_ >= 0) ::close(in_);
    if (out_ >= 0) ::close(out_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  void start(const Options& o) {
    std::vector<std::string> args = {"spindle-soak",  "--serve",
                                     "--connections", std::to_string(o.connections),
                                     "--max-frame",   std::to_string(o.maxFrame),
                                     "--seed",        std::to_string(o.seed),
                                     "--deadline",    std::to_string(o.clientBound() + 60)};
    if (o.ipv6) args.push_back("--ipv6");
    if (o.inject != Fault::None) {
      args.push_back("--inject");
      args.push_back(o.inject == Fault::FlipBit ? "flip" : "drop");
    }
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    int inPipe[2], outPipe[2];
    if (::pipe2(inPipe, O_CLOEXEC) != 0 || ::pipe2(outPipe, O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) {
      ::dup2(inPipe[0], STDIN_FILENO);
      ::dup2(outPipe[1], STDOUT_FILENO);
      ::execv("/proc/self/exe", argv.data());
      ::_exit(127);
    }
    ::close(inPipe[0]);
    ::close(outPipe[1]);
    in_ = inPipe[1];
    out_ = outPipe[0];
  }

  /// Reads the server's output until `done(text)` holds or it ends or `seconds` pass.
  template <class Done>
  bool readUntil(Done done, double seconds) {
    const auto until = ::time(nullptr) + static_cast<time_t>(seconds) + 1;
    while (!done(text_)) {
      const time_t left = until - ::time(nullptr);
      if (left <= 0 || out_ < 0) return false;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left) * 1000) <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(out_, buf, sizeof buf);
      if (n > 0) {
        text_.append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(out_);
        out_ = -1;
      }
    }
    return true;
  }

  /// The port from the server's "PORT n" line, or 0.
  std::uint16_t waitForPort() {
    if (!readUntil([](const std::string& t) { return t.find('\n') != std::string::npos; }, 30)) {
      return 0;
    }
    unsigned port = 0;
    return std::sscanf(text_.c_str(), "PORT %u", &port) == 1 ? static_cast<std::uint16_t>(port) : 0;
  }

  /// Closes the server's stdin (it then stops), reads its report and reaps it. Returns the
  /// report text, empty if it did not come in time.
  std::string finish(double seconds) {
    ::close(in_);
    in_ = -1;
    bool ok = readUntil([](const std::string& t) { return t.find("\nEND\n") != std::string::npos; },
                        seconds);
    int status = 0;
    pid_t r = 0;
    for (int i = 0; i < 100 && (r = ::waitpid(pid_, &status, WNOHANG)) == 0; ++i)
      ::usleep(100000);
    if (r != pid_) return {};  // still running: the destructor kills it
    pid_ = -1;
    exitCode_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return ok && exitCode_ == 0 ? text_ : std::string();
  }

  /// The server's exit status once finish() reaped it, else -1.
  int exitCode() const noexcept { return exitCode_; }

 private:
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  int exitCode_ = -1;
  std::string text_;
};

struct ServerReport {
  bool received = false;
  Totals totals;
  long rssKiB = 0;
  bool injected = false;
};

ServerReport parseReport(const std::string& text) {
  ServerReport r;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string kind, key;
    unsigned long long v = 0;
    words >> kind;
    if (kind == "END") r.received = true;
    if (kind == "ERROR" && words >> v) {
      std::getline(words >> std::ws, key);
      r.totals.errors[key] += v;
    }
    if (kind != "STAT" || !(words >> key >> v)) continue;
    Totals& t = r.totals;
    for (auto [name, field] : {std::pair{"made", &t.made},
                               {"peak", &t.peakOpen},
                               {"completed", &t.completed},
                               {"sent", &t.bytesSent},
                               {"received", &t.bytesReceived},
                               {"corrupt", &t.corruptBytes},
                               {"lost", &t.lostBytes},
                               {"extra", &t.extraBytes}}) {
      if (key == name) *field = v;
    }
    if (key == "rss_kib") r.rssKiB = static_cast<long>(v);
    if (key == "injected") r.injected = v != 0;
  }
  return r;
}

std::string bytes(std::uint64_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%llu bytes (%.1f MiB)", static_cast<unsigned long long>(n),
                static_cast<double>(n) / 1048576);
  return buf;
}

std::string errorList(const Totals& t) {
  if (t.errors.empty()) return " none";
  std::string out;
  for (const auto& [why, count] : t.errors)
    out += "\n    " + std::to_string(count) + " x " + why;
  return out;
}

void printSummary(const Options& o, const ClientResult& c, const ServerReport& s, double total) {
  const Totals& ct = c.totals;
  const Totals& st = s.totals;
  const double rate = c.streamSeconds > 0 ? 1.0 / c.streamSeconds / 1048576 : 0;
  std::printf(
      "\n--- spindle soak: %llu connections over %s, %g s of streaming, frames of 1..%zu "
      "bytes, seed %llu\n",
      static_cast<unsigned long long>(o.connections), o.ipv6 ? "::1" : "127.0.0.1", o.seconds,
      o.maxFrame, static_cast<unsigned long long>(o.seed));
  std::printf(
      "connections held    %llu of %llu at once (peak open: client %llu, server %llu)\n",
      static_cast<unsigned long long>(c.held), static_cast<unsigned long long>(o.connections),
      static_cast<unsigned long long>(ct.peakOpen), static_cast<unsigned long long>(st.peakOpen));
  std::printf("completed cleanly   client %llu, server %llu\n",
              static_cast<unsigned long long>(ct.completed),
              static_cast<unsigned long long>(st.completed));
  std::printf("client -> server    sent %s, verified by the server %s (%.1f MiB/s)\n",
              bytes(ct.bytesSent).c_str(), bytes(st.bytesReceived).c_str(),
              static_cast<double>(st.bytesReceived) * rate);
  std::printf("server -> client    sent %s, verified by the client %s (%.1f MiB/s)\n",
              bytes(st.bytesSent).c_str(), bytes(ct.bytesReceived).c_str(),
              static_cast<double>(ct.bytesReceived) * rate);
  std::printf("corrupted bytes     client %llu, server %llu\n",
              static_cast<unsigned long long>(ct.corruptBytes),
              static_cast<unsigned long long>(st.corruptBytes));
  std::printf("lost bytes          client %llu, server %llu (extra: %llu, %llu)\n",
              static_cast<unsigned long long>(ct.lostBytes),
              static_cast<unsigned long long>(st.lostBytes),
              static_cast<unsigned long long>(ct.extraBytes),
              static_cast<unsigned long long>(st.extraBytes));
  std::printf("errors              client:%s\n", errorList(ct).c_str());
  std::printf("                    server:%s\n", errorList(st).c_str());
  std::printf("peak RSS            client %.1f MiB, server %.1f MiB\n",
              static_cast<double>(peakRssKiB()) / 1024, static_cast<double>(s.rssKiB) / 1024);
  std::printf("duration            connect %.2f s, stream %.2f s, close %.2f s, total %.1f s\n",
              c.connectSeconds, c.streamSeconds, c.closeSeconds, total);
}

// Every reason the run fails; none means it passed.
std::vector<std::string> problems(const Options& o, const ClientResult& c, const ServerReport& s) {
  std::vector<std::string> p;
  const Totals& ct = c.totals;
  const Totals& st = s.totals;
  if (!s.received) p.push_back("no report from the server");
  if (!c.failure.empty()) p.push_back(c.failure);
  if (o.inject != Fault::None && !s.injected) p.push_back("the server never injected its fault");
  if (c.held < o.connections) p.push_back("fewer connections held than asked");
  if (ct.completed != o.connections || st.completed != o.connections) {
    p.push_back("not every connection completed its exchange");
  }
  if (ct.corruptBytes + st.corruptBytes > 0) p.push_back("corrupted bytes");
  if (ct.lostBytes + st.lostBytes + ct.extraBytes + st.extraBytes > 0) {
    p.push_back("lost or extra bytes");
  }
  if (ct.bytesSent != st.bytesReceived || st.bytesSent != ct.bytesReceived) {
    p.push_back("bytes sent and received differ");
  }
  if (ct.errorCount() + st.errorCount() > 0) p.push_back("errors");
  return p;
}

int drive(const Options& o) {
  if (auto why = checkPortRange(o.connections); !why.empty()) {
    std::fprintf(stderr, "spindle-soak: cannot run here: %s\n", why.c_str());
    return kCannotRun;
  }
  if (auto why = raiseFdLimit(o.descriptorsNeeded()); !why.empty()) {
    std::fprintf(stderr, "spindle-soak: cannot run here: %s\n", why.c_str());
    return kCannotRun;
  }
  const auto started = std::chrono::steady_clock::now();
  ServerProcess server;
  server.start(o);
  const std::uint16_t port = server.waitForPort();
  if (port == 0) {
    std::fprintf(stderr, "spindle-soak: the server did not start (see its messages above)\n");
    server.finish(5);
    return server.exitCode() == kCannotRun ? kCannotRun : 1;
  }
  ClientResult client = runClient(o, port);
  ServerReport report = parseReport(server.finish(o.endTimeout + 30));
  const std::chrono::duration<double> total = std::chrono::steady_clock::now() - started;
  printSummary(o, client, report, total.count());
  auto p = problems(o, client, report);
  if (p.empty()) {
    std::printf("RESULT: PASS\n");
    return 0;
  }
  std::string all;
  for (const auto& why : p)
    all += (all.empty() ? "" : "; ") + why;
  std::printf("RESULT: FAIL (%s)\n", all.c_str());
  return 1;
}

}  // namespace
}  // namespace soak

int main(int argc, char** argv) {
  bool serve = false;
  soak::Options options = soak::parseOptions(argc, argv, serve);
  try {
    if (serve) {
      if (options.serverDeadline <= 0) soak::usage("--serve needs --deadline");
      return soak::runServer(options);
    }
    return soak::drive(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "spindle-soak%s: %s\n", serve ? " server" : "", e.what());
    return 1;
  }
}
