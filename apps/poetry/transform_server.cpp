// transform-server: the Twisted tutorial's poetry transformation server on spindle. A client
// sends one netstring `NAME.POEM` and gets back one netstring, the transformed poem; then the
// server closes. See transform.hpp for the protocol, README.md for the command line.
#include <cstdio>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <spindle/spindle.hpp>

#include "server_cli.hpp"
#include "transform.hpp"

namespace {

struct Options {
  poetry::cli::ListenOptions listen;
  long long maxLength = poetry::kDefaultMaxRequest;
  double idleTimeout = poetry::cli::kDefaultIdleTimeout;
};

// Parses the command line; returns an exit code when the program should stop now.
std::optional<int> parse(CLI::App& app, Options& o, int argc, char** argv) {
  poetry::cli::addListenOptions(app, o.listen);
  app.add_option("--max-length", o.maxLength,
                 fmt::format("Longest request accepted, in bytes (default {})", o.maxLength))
      ->check(CLI::Range(1LL, 1LL << 30))
      ->type_name("BYTES");
  poetry::cli::addIdleTimeout(app, o.idleTimeout);
  return poetry::cli::parse(app, o.listen, argc, argv);
}

}  // namespace

int main(int argc, char** argv) {
  auto service =
      std::make_shared<const poetry::TransformService>(poetry::TransformService::standard());
  CLI::App app{fmt::format("Poetry Transform Server: answers a netstring NAME.POEM with the poem "
                           "transformed by NAME ({}).",
                           fmt::join(service->names(), ", ")),
               "transform-server"};
  Options o;
  if (auto code = parse(app, o, argc, argv)) return *code;

  spindle::Reactor reactor;
  poetry::TransformOptions options{static_cast<std::size_t>(o.maxLength),
                                   poetry::cli::idleTimeout(o.idleTimeout)};
  auto factory = std::make_shared<poetry::TransformFactory>(reactor, service, options);
  factory->onFailure = [](const spindle::Address& peer, const spindle::Failure& why) {
    fmt::print(stderr, "transform-server: closed {}: {}\n", peer, why.toString());
  };

  auto port = poetry::cli::listen(reactor, o.listen, factory, app.get_name());
  if (!port) return 1;
  // Announce only once running: run() installs the SIGINT/SIGTERM handlers first, so whoever
  // waits for this line may signal at once.
  reactor.callWhenRunning(
      [&] { poetry::cli::say("Serving transforms on port {}.", port->getHost().port()); });

  reactor.run({.installSignalHandlers = true});
  return 0;
}
