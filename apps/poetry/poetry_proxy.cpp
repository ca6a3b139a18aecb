// poetry-proxy: the tutorial's poetry proxy on spindle. Serves the poem of an upstream poetry
// server, fetched (with getPoetry) once for all the clients that wait for it, then kept.
#include <cstdio>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <spindle/spindle.hpp>

#include "poetry.hpp"
#include "proxy.hpp"
#include "server_cli.hpp"

namespace {

struct Options {
  poetry::cli::ListenOptions listen;
  double timeout = 60;
  std::string upstreamText;
  spindle::HostPort upstream;
};

// Parses the command line; returns an exit code when the program should stop now.
std::optional<int> parse(CLI::App& app, Options& o, int argc, char** argv) {
  poetry::cli::addListenOptions(app, o.listen);
  app.add_option("--timeout", o.timeout,
                 "Give up on an upstream fetch not complete after SECONDS (default 60; 0: never)")
      ->check(poetry::cli::kSeconds)
      ->type_name("SECONDS");
  app.add_option("upstream", o.upstreamText,
                 "The poetry server to fetch from: [HOST:]PORT or [IPV6]:PORT")
      ->required()
      ->type_name("UPSTREAM");
  if (auto code = poetry::cli::parse(app, o.listen, argc, argv)) return code;
  try {
    o.upstream = poetry::parseAddress(o.upstreamText);
  } catch (const poetry::AddressError& e) {
    fmt::print(stderr, "{}: bad upstream address: {}\n\n{}", app.get_name(), e.what(), app.help());
    return poetry::cli::kUsageError;
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Poetry proxy: serves the poem of an upstream poetry server, fetched once and "
      "then kept.",
      "poetry-proxy"};
  Options o;
  if (auto code = parse(app, o, argc, argv)) return *code;

  spindle::Reactor reactor;
  poetry::FetchOptions fetch;
  fetch.timeout = o.timeout > 0 ? std::optional<double>(o.timeout) : std::nullopt;
  auto cache = std::make_shared<poetry::PoetryCache>([&] {
    poetry::cli::say("Fetching poem from {}", o.upstream);
    return poetry::getPoetry(reactor, o.upstream.host, o.upstream.port, fetch);
  });
  auto factory = std::make_shared<poetry::ProxyFactory>(cache);
  poetry::cli::ConnectionLog log(reactor);
  factory->onConnection = [&cache, &log](const spindle::Address& peer) {
    log.line("Connection from {}{}", peer, cache->cached() ? " (poem cached)" : "");
  };
  factory->onFailure = [](const spindle::Address& peer, const spindle::Failure& why) {
    fmt::print(stderr, "poetry-proxy: closed {}: {}\n", peer, why.toString());
  };

  auto port = poetry::cli::listen(reactor, o.listen, factory, app.get_name());
  if (!port) return 1;
  // Announce only once running: run() installs the SIGINT/SIGTERM handlers first.
  reactor.callWhenRunning(
      [&] { poetry::cli::say("Proxying {} on port {}.", o.upstream, port->getHost().port()); });

  reactor.run({.installSignalHandlers = true});
  return 0;
}
