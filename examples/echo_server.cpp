// echo-server: Twisted's echoserv.py. Writes back every byte each client sends.
//
//   echo-server [--port N] [--iface ADDR]
#include <spindle/spindle.hpp>

#include "example_cli.hpp"

/// This is just about the simplest possible protocol.
class Echo : public spindle::Protocol {
 public:
  /// As soon as any data is received, write it back.
  void dataReceived(std::string_view data) override { transport->write(data); }
};

int main(int argc, char** argv) {
  CLI::App app{"Echo server: writes back every byte each client sends.", "echo-server"};
  examples::ServerOptions options;
  examples::addServerOptions(app, options);
  if (auto status = examples::parse(app, argc, argv)) return *status;

  spindle::Reactor reactor;
  auto port =
      examples::listen(reactor, options, spindle::Factory::forProtocol<Echo>(), app.get_name());
  if (!port) return 1;
  // Announce from inside run(), once the signal handlers are in: a parent that sends SIGINT
  // as soon as it reads this line then always gets a clean stop.
  reactor.callWhenRunning(
      [&] { examples::say("Echo server listening on port {}.", port->getHost().port()); });
  reactor.run({.installSignalHandlers = true});
  return 0;
}
