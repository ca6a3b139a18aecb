// chat-server: the line-based chat server of "Twisted Network Programming Essentials" (a
// LineReceiver whose factory keeps the users), with /nick and an idle timeout per user.
//
//   chat-server [--port N] [--iface ADDR] [--idle SECONDS]
//
// Try it with two terminals running `nc 127.0.0.1 PORT`.
#include <optional>

#include <spindle/spindle.hpp>

#include "chat.hpp"
#include "example_cli.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Chat server: every line a user sends goes to every other user.", "chat-server"};
  examples::ServerOptions options;
  examples::addServerOptions(app, options);
  double idle = 300;
  app.add_option("--idle-timeout,--idle", idle,
                 "Drop a user silent for SECONDS (default 300; 0: never)")
      ->check(examples::kSeconds);
  if (auto status = examples::parse(app, argc, argv)) return *status;

  spindle::Reactor reactor;
  auto factory = std::make_shared<chat::ChatFactory>(
      reactor, idle > 0 ? std::optional<double>(idle) : std::nullopt);
  auto port = examples::listen(reactor, options, factory, app.get_name());
  if (!port) return 1;
  // Announce from inside run(), once the signal handlers are in: a parent that sends SIGINT
  // as soon as it reads this line then always gets a clean stop.
  reactor.callWhenRunning(
      [&] { examples::say("Chat server listening on port {}.", port->getHost().port()); });
  reactor.run({.installSignalHandlers = true});
  return 0;
}
