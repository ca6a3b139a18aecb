// poetry-server: the tutorial's slow poetry server on spindle. Each client gets the poem
// --num-bytes bytes every --delay seconds (all at once with --delay 0), then the server closes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <spindle/spindle.hpp>

#include "poetry.hpp"

namespace {

constexpr int kUsageError = 2;
// Room for a crowd connecting at once: with Twisted's default of 50, a burst of 100 clients
// overflows the accept queue and the dropped SYNs are retried only after a second.
constexpr int kBacklog = 1024;

struct Options {
  int port = 0;
  std::string iface = "127.0.0.1";
  double delay = 0.7;
  long long numBytes = 10;
  std::string file;
};

// Parses the command line; returns an exit code when the program should stop now.
std::optional<int> parse(CLI::App& app, Options& o, int argc, char** argv) {
  app.add_option("--port", o.port, "Port to listen on (0, the default, picks a free one)")
      ->check(CLI::Range(0, 65535))
      ->type_name("PORT");
  app.add_option("--iface", o.iface, "IP address to listen on (default 127.0.0.1; :: for all)")
      ->type_name("ADDRESS");
  app.add_option("--delay", o.delay,
                 "Seconds between two chunks (default 0.7; 0 sends the whole poem at once)")
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            double d = std::strtod(s.c_str(), nullptr);
            return std::isfinite(d) && d >= 0 ? "" : "must be a number >= 0";
          },
          ">=0"))
      ->type_name("SECONDS");
  app.add_option("--num-bytes", o.numBytes, "Bytes per chunk (default 10)")
      ->check(CLI::Range(1LL, 1LL << 30))
      ->type_name("N");
  app.add_option("poetry-file", o.file, "The poem to serve")->required()->type_name("FILE");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "poetry-server: {}\n\n{}", e.what(), app.help());
    return kUsageError;
  }
  if (!spindle::isIPAddress(o.iface)) {
    fmt::print(stderr, "poetry-server: --iface {} is not an IP address\n", o.iface);
    return kUsageError;
  }
  return std::nullopt;
}

// Reads the whole file; on failure returns nullopt with errno set.
std::optional<std::string> readFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    errno = EISDIR;
    return std::nullopt;
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      int saved = errno;
      ::close(fd);
      errno = saved;
      return std::nullopt;
    }
  }
  ::close(fd);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Slow Poetry Server: sends a poem to every client, a few bytes at a time.",
               "poetry-server"};
  Options o;
  if (auto code = parse(app, o, argc, argv)) return *code;

  auto poem = readFile(o.file);
  if (!poem) {
    fmt::print(stderr, "poetry-server: cannot read {}: {}\n", o.file, std::strerror(errno));
    return kUsageError;
  }

  spindle::Reactor reactor;
  poetry::ServeOptions serve{o.delay, static_cast<std::size_t>(o.numBytes)};
  auto factory = std::make_shared<poetry::SlowPoetryFactory>(
      reactor, std::make_shared<const std::string>(std::move(*poem)), serve);
  factory->onConnection = [](const spindle::Address& peer) {
    fmt::print("Connection from {}\n", peer);
    std::fflush(stdout);
  };

  std::shared_ptr<spindle::ListeningPort> port;
  try {
    port = reactor.listenTCP(static_cast<uint16_t>(o.port), factory, kBacklog, o.iface);
  } catch (const spindle::Error& e) {
    fmt::print(stderr, "poetry-server: {}\n", e.what());
    return 1;
  }
  // Announce only once running: run() installs the SIGINT/SIGTERM handlers first, so whoever
  // waits for this line may signal at once.
  reactor.callWhenRunning([&] {
    fmt::print("Serving {} on port {}.\n", o.file, port->getHost().port());
    std::fflush(stdout);
  });

  reactor.run({.installSignalHandlers = true});
  return 0;
}
