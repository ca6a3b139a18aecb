// Internal to the benchmarks: small helpers shared by the peer servers and the load generators.
// Plain POSIX on purpose: the load generators must cost the same against every server.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dirent.h>

#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace bench {

[[noreturn]] inline void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
  std::exit(1);
}

/// A decimal integer in [lo, hi], or exit with a message naming `what`.
inline long long parseInt(const char* text, const char* what, long long lo, long long hi) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) {
    die("bad %s '%s' (expected an integer in [%lld, %lld])", what, text, lo, hi);
  }
  return v;
}

inline double parseSeconds(const char* text, const char* what) {
  char* end = nullptr;
  double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(v > 0) || v > 3600) die("bad %s '%s'", what, text);
  return v;
}

/// Seconds on the monotonic clock.
inline double now() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// CPU seconds (user + system) this process has used so far.
inline double cpuSeconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec * 1e-6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

/// CPU seconds (user + system) process `pid` has used so far, summed over its threads, from
/// /proc/PID/task/*/schedstat (nanoseconds); falls back to /proc/PID/stat (clock ticks).
/// Returns -1 if the process is gone. The load generators read their server's figure at the
/// edges of the measured window, so connection set-up and tear-down stay outside it.
inline double processCpuSeconds(int pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = ::opendir(dir.c_str())) {
    double total = 0;
    bool any = false;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream in(dir + "/" + e->d_name + "/schedstat");
      unsigned long long ns = 0;
      if (in >> ns) {
        total += static_cast<double>(ns) * 1e-9;
        any = true;
      }
    }
    ::closedir(d);
    if (any) return total;
  }
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  // Fields after the command name (which may hold spaces) start after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return -1;
  const char* p = line.c_str() + close + 2;
  unsigned long long utime = 0, stime = 0;
  // state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
  if (std::sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
    return -1;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// Raises the descriptor limit to its hard maximum (idle and fan-in runs hold thousands).
inline void raiseFdLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

inline void setNoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

inline sockaddr_in ipv4(const char* host, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host, &sa.sin_addr) != 1) die("bad IPv4 address '%s'", host);
  return sa;
}

/// A non-blocking listening socket on host:port with SO_REUSEADDR and a SOMAXCONN backlog.
inline int listenOn(const char* host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket: %s", std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa = ipv4(host, port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
    die("bind %s:%d: %s", host, port, std::strerror(errno));
  if (::listen(fd, SOMAXCONN) < 0) die("listen: %s", std::strerror(errno));
  return fd;
}

inline int boundPort(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

/// The whole file, or exit.
inline std::string readFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read %s: %s", path, std::strerror(errno));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// The byte at position `i` of a ping-pong block: not constant, so a shifted or torn echo shows.
inline char patternByte(std::size_t i) {
  return static_cast<char>('a' + (i * 7 + i / 26) % 26);
}

/// What every ping-pong server prints once it listens, so the driver knows it may start.
inline void announceListening(const char* what, const char* host, int port) {
  std::printf("%s listening on %s:%d\n", what, host, port);
  std::fflush(stdout);
}

/// The same line every poetry server prints (the one spindle's poetry-server prints).
inline void announceServing(const char* file, int port) {
  std::printf("Serving %s on port %d.\n", file, port);
  std::fflush(stdout);
}

/// Common checks of the muduo/Asio server command line: ADDR PORT THREADS BLOCKSIZE.
struct ServerArgs {
  const char* host;
  int port;
  int threads;
  int blockSize;
};

inline ServerArgs parseServerArgs(int argc, char** argv, const char* name) {
  if (argc != 5) die("usage: %s ADDR PORT THREADS BLOCKSIZE", name);
  ServerArgs a{argv[1], static_cast<int>(parseInt(argv[2], "PORT", 0, 65535)),
               static_cast<int>(parseInt(argv[3], "THREADS", 1, 64)),
               static_cast<int>(parseInt(argv[4], "BLOCKSIZE", 1, 1 << 24))};
  // Every server here runs one event loop on one thread: the benchmark pins the server to one
  // core and the load generator to the other, so more threads would only contend.
  if (a.threads != 1) die("%s: only THREADS=1 is supported (one event loop per process)", name);
  return a;
}

/// Common poetry server command line, as spindle's poetry-server:
/// [--port N] [--iface ADDR] [--delay 0] POETRY-FILE. Only --delay 0 is supported.
struct PoetryArgs {
  int port = 0;
  std::string iface = "127.0.0.1";
  const char* file = nullptr;
};

inline PoetryArgs parsePoetryArgs(int argc, char** argv, const char* name) {
  PoetryArgs a;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) die("%s: %s needs a value", name, argv[i]);
      return argv[++i];
    };
    if (arg == "--port") {
      a.port = static_cast<int>(parseInt(value(), "--port", 0, 65535));
    } else if (arg == "--iface") {
      a.iface = value();
    } else if (arg == "--delay") {
      if (std::strtod(value(), nullptr) != 0) die("%s: only --delay 0 is supported", name);
    } else if (!arg.empty() && arg[0] == '-') {
      die("usage: %s [--port N] [--iface ADDR] [--delay 0] POETRY-FILE", name);
    } else {
      a.file = argv[i];
    }
  }
  if (!a.file) die("usage: %s [--port N] [--iface ADDR] [--delay 0] POETRY-FILE", name);
  return a;
}

}  // namespace bench
