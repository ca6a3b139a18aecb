// poetry-server: the tutorial's slow poetry server on spindle. Each client gets the poem
// --num-bytes bytes every --delay seconds (all at once with --delay 0), then the server closes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <spindle/spindle.hpp>

#include "poetry.hpp"
#include "server_cli.hpp"

namespace {

using poetry::cli::kUsageError;

struct Options {
  poetry::cli::ListenOptions listen;
  double delay = 0.7;
  long long numBytes = 10;
  double idleTimeout = poetry::cli::kDefaultIdleTimeout;
  std::string file;
};

// Parses the command line; returns an exit code when the program should stop now.
std::optional<int> parse(CLI::App& app, Options& o, int argc, char** argv) {
  poetry::cli::addListenOptions(app, o.listen);
  app.add_option("--delay", o.delay,
                 "Seconds between two chunks (default 0.7; 0 sends the whole poem at once)")
      ->check(poetry::cli::kSeconds)
      ->type_name("SECONDS");
  app.add_option("--num-bytes", o.numBytes, "Bytes per chunk (default 10)")
      ->check(CLI::Range(1LL, 1LL << 30))
      ->type_name("N");
  poetry::cli::addIdleTimeout(app, o.idleTimeout);
  app.add_option("poetry-file", o.file, "The poem to serve")->required()->type_name("FILE");
  return poetry::cli::parse(app, o.listen, argc, argv);
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
  poetry::ServeOptions serve{o.delay, static_cast<std::size_t>(o.numBytes),
                             poetry::cli::idleTimeout(o.idleTimeout)};
  auto factory = std::make_shared<poetry::SlowPoetryFactory>(
      reactor, std::make_shared<const std::string>(std::move(*poem)), serve);
  poetry::cli::ConnectionLog log(reactor);
  factory->onConnection = [&log](const spindle::Address& peer) {
    log.line("Connection from {}", peer);
  };
  factory->onDropped = [](const spindle::Address& peer, const spindle::Failure& why) {
    fmt::print(stderr, "poetry-server: dropped {}: {}\n", peer, why.toString());
  };

  auto port = poetry::cli::listen(reactor, o.listen, factory, app.get_name());
  if (!port) return 1;
  // Announce only once running: run() installs the SIGINT/SIGTERM handlers first, so whoever
  // waits for this line may signal at once.
  reactor.callWhenRunning(
      [&] { poetry::cli::say("Serving {} on port {}.", o.file, port->getHost().port()); });

  reactor.run({.installSignalHandlers = true});
  return 0;
}
