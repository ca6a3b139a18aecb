// Command-line pieces the poetry servers share (poetry-server, transform-server, poetry-proxy):
// where to listen, the idle timeout, checks of numbers of seconds, usage errors that exit 2,
// and the line logged per connection.
#pragma once

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <spindle/spindle.hpp>

namespace poetry::cli {

/// The exit status of a bad command line or an unreadable input.
inline constexpr int kUsageError = 2;
/// The listen backlog. Room for a crowd connecting at once: with Twisted's default of 50, a
/// burst of 100 clients overflows the accept queue and the dropped SYNs are retried only after
/// a second.
inline constexpr int kBacklog = 1024;
/// The default of --idle-timeout, in seconds.
inline constexpr double kDefaultIdleTimeout = 60;

/// A CLI11 check that a value is a finite number of seconds, 0 or more.
inline const CLI::Validator kSeconds(
    [](std::string& s) {
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      bool ok = !s.empty() && *end == '\0' && std::isfinite(d) && d >= 0;
      return ok ? std::string() : "must be a number of seconds >= 0";
    },
    ">=0");

/// Where a server listens.
struct ListenOptions {
  int port = 0;
  std::string iface = "127.0.0.1";
};

/// Adds --port and --iface.
inline void addListenOptions(CLI::App& app, ListenOptions& o) {
  app.add_option("--port", o.port, "Port to listen on (0, the default, picks a free one)")
      ->check(CLI::Range(0, 65535))
      ->type_name("PORT");
  app.add_option("--iface", o.iface, "IP address to listen on (default 127.0.0.1; :: for all)")
      ->type_name("ADDRESS");
}

/// Adds --idle-timeout into `seconds` (which holds the default).
inline void addIdleTimeout(CLI::App& app, double& seconds) {
  app.add_option("--idle-timeout", seconds,
                 fmt::format("Drop a client that makes no progress for SECONDS (default {:g}; "
                             "0: never)",
                             seconds))
      ->check(kSeconds)
      ->type_name("SECONDS");
}

/// An --idle-timeout value as the protocols take it: 0 means none.
inline std::optional<double> idleTimeout(double seconds) {
  return seconds > 0 ? std::optional<double>(seconds) : std::nullopt;
}

/// Parses the command line and checks --iface. Returns the status to exit with when the program
/// should stop now: 0 after --help, kUsageError (the reason and the usage on stderr) after a
/// bad argument.
inline std::optional<int> parse(CLI::App& app, const ListenOptions& listen, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "{}: {}\n\n{}", app.get_name(), e.what(), app.help());
    return kUsageError;
  }
  if (!spindle::isIPAddress(listen.iface)) {
    fmt::print(stderr, "{}: --iface {} is not an IP address\n", app.get_name(), listen.iface);
    return kUsageError;
  }
  return std::nullopt;
}

/// listenTCP on the options' interface and port; prints why and returns nullptr if it cannot.
inline std::shared_ptr<spindle::ListeningPort> listen(spindle::Reactor& reactor,
                                                      const ListenOptions& o,
                                                      std::shared_ptr<spindle::Factory> factory,
                                                      const std::string& program) {
  try {
    return reactor.listenTCP(static_cast<uint16_t>(o.port), std::move(factory), kBacklog, o.iface);
  } catch (const spindle::Error& e) {
    fmt::print(stderr, "{}: {}\n", program, e.what());
    return nullptr;
  }
}

/// Prints one line to stdout and flushes it, so a parent reading a pipe sees it at once.
template <class... Args>
void say(fmt::format_string<Args...> format, Args&&... args) {
  fmt::print("{}\n", fmt::format(format, std::forward<Args>(args)...));
  std::fflush(stdout);
}

/// A server's line per connection on stdout, at a cost that does not grow with the connections.
///
/// To a terminal each line is written at once. To a pipe or a file (where a busy server's log
/// usually goes) lines gather in the stream's buffer and are flushed at most `delay` seconds
/// after the first of them, so a burst of connections costs one write, not one each: a write to
/// a pipe also wakes its reader, which cost a loopback poetry server a fifth of its CPU per
/// poem. Lines are flushed when the log is destroyed; say() flushes them too, in order.
class ConnectionLog {
 public:
  static constexpr double kDefaultDelay = 0.1;

  explicit ConnectionLog(spindle::IReactorTime& time, std::FILE* out = stdout,
                         double delay = kDefaultDelay)
      : time_(time), out_(out), delay_(delay), interactive_(isTerminal(out)) {}
  ~ConnectionLog() { flush(); }
  ConnectionLog(const ConnectionLog&) = delete;
  ConnectionLog& operator=(const ConnectionLog&) = delete;

  template <class... Args>
  void line(fmt::format_string<Args...> format, Args&&... args) {
    fmt::memory_buffer text;
    fmt::format_to(std::back_inserter(text), format, std::forward<Args>(args)...);
    text.push_back('\n');
    std::fwrite(text.data(), 1, text.size(), out_);
    if (interactive_ || delay_ <= 0) {
      std::fflush(out_);
    } else if (!pending_.active()) {
      pending_ = time_.callLater(delay_, [out = out_] { std::fflush(out); });
    }
  }

  /// Writes out every gathered line now.
  void flush() {
    if (pending_.active()) pending_.cancel();
    std::fflush(out_);
  }

  /// True while lines wait for the next flush.
  bool pending() const noexcept { return pending_.active(); }

 private:
  static bool isTerminal(std::FILE* f) {
    int fd = ::fileno(f);
    return fd >= 0 && ::isatty(fd) == 1;
  }

  spindle::IReactorTime& time_;
  std::FILE* out_;
  double delay_;
  bool interactive_;
  spindle::DelayedCall pending_;
};

}  // namespace poetry::cli
