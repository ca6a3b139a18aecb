// netstring-echo: an echo server that speaks netstrings (Twisted's NetstringReceiver). Every
// netstring a client sends comes back as a netstring; a client that sends a malformed one is
// logged on stderr and disconnected, and the server goes on serving the others.
//
//   netstring-echo [--port N] [--iface ADDR]
#include <spindle/spindle.hpp>

#include "example_cli.hpp"
#include "netstring_echo.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Netstring echo server: sends back every netstring each client sends.",
               "netstring-echo"};
  examples::ServerOptions options;
  examples::addServerOptions(app, options);
  if (auto status = examples::parse(app, argc, argv)) return *status;

  spindle::Reactor reactor;
  auto factory = spindle::Factory::forProtocol<netstring_echo::NetstringEcho>();
  auto port = examples::listen(reactor, options, factory, app.get_name());
  if (!port) return 1;
  // Announce from inside run(), once the signal handlers are in: a parent that sends SIGINT
  // as soon as it reads this line then always gets a clean stop.
  reactor.callWhenRunning([&] {
    examples::say("Netstring echo server listening on port {}.", port->getHost().port());
  });
  reactor.run({.installSignalHandlers = true});
  return 0;
}
