// echo-client: Twisted's echoclient.py. Sends one message to an echo server, prints what comes
// back, and closes once all of it has.
//
//   echo-client [--message TEXT] [HOST:]PORT
//
// Exit status: 0 when the whole message came back unchanged, 1 when the connection failed or
// ended early (the reason goes to stderr), 2 on a usage error.
#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <spindle/spindle.hpp>

#include "example_cli.hpp"

class EchoClientFactory;

/// Writes the message once connected and collects the echo until it is complete.
class EchoClient : public spindle::ProtocolFor<EchoClientFactory> {
 public:
  void connectionMade() override;
  void dataReceived(std::string_view data) override;
  void connectionLost(const spindle::Failure& reason) override;

 private:
  void closeIfComplete();
  std::string received_;
};

/// Builds the one EchoClient, and stops the reactor when the connection fails or ends.
class EchoClientFactory : public spindle::ClientFactory {
 public:
  EchoClientFactory(spindle::Reactor& reactor, std::string message)
      : message(std::move(message)), reactor_(reactor) {}

  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address&) override {
    return makeProtocol<EchoClient>();
  }
  void clientConnectionFailed(spindle::Connector&, const spindle::Failure& reason) override {
    fmt::print(stderr, "connection failed: {}\n", reason.getErrorMessage());
    reactor_.stop();
  }
  void clientConnectionLost(spindle::Connector&, const spindle::Failure&) override {
    reactor_.stop();
  }

  const std::string message;
  /// The exit status: 0 once the whole echo came back.
  int status = 1;

 private:
  spindle::Reactor& reactor_;
};

void EchoClient::connectionMade() {
  transport->write(factory().message);
  closeIfComplete();  // an empty message is complete at once
}

void EchoClient::dataReceived(std::string_view data) {
  received_ += data;
  closeIfComplete();
}

void EchoClient::closeIfComplete() {
  if (received_.size() >= factory().message.size()) transport->loseConnection();
}

void EchoClient::connectionLost(const spindle::Failure& reason) {
  const std::string& message = factory().message;
  if (received_ == message) {
    examples::say("Server said: {}", received_);
    factory().status = 0;
  } else if (received_.size() < message.size()) {
    fmt::print(stderr, "connection lost after {} of {} bytes: {}\n", received_.size(),
               message.size(), reason.getErrorMessage());
  } else {
    fmt::print(stderr, "the server sent back something else: {}\n", received_);
  }
}

int main(int argc, char** argv) {
  CLI::App app{"Echo client: sends a message to an echo server and prints the echo.",
               "echo-client"};
  std::string message = "Hello, world!";
  std::string address;
  app.add_option("--message", message, "What to send (default \"Hello, world!\")");
  app.add_option("address", address, "The server: PORT (on 127.0.0.1), HOST:PORT or [IPV6]:PORT")
      ->required()
      ->check(examples::kHostPort);
  if (auto status = examples::parse(app, argc, argv)) return *status;
  spindle::HostPort server = *examples::parseHostPort(address);

  spindle::Reactor reactor;
  auto factory = std::make_shared<EchoClientFactory>(reactor, message);
  reactor.connectTCP(server.host, server.port, factory);
  reactor.run();
  return factory->status;
}
