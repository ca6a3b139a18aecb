// port-forward: Twisted's portforward (ProxyServer / ProxyClient). Every client connection is
// joined to a new connection to UPSTREAM, with backpressure both ways: each side's transport is
// registered as the producer of the other, so a slow reader on one end pauses the reads on the
// other instead of letting the proxy's buffers grow.
//
//   port-forward [--port N] [--iface ADDR] UPSTREAM_HOST:PORT
#include <spindle/spindle.hpp>

#include "example_cli.hpp"

class ProxyClient;

/// The client's side: one per accepted connection.
class ProxyServer : public spindle::Protocol {
 public:
  ProxyServer(spindle::Reactor& reactor, spindle::HostPort upstream)
      : reactor_(reactor), upstream_(std::move(upstream)) {}
  void connectionMade() override;
  void dataReceived(std::string_view data) override;
  void connectionLost(const spindle::Failure& reason) override;

  /// Called by the upstream side once it is connected, and with nullptr when it is gone.
  void setPeer(ProxyClient* peer);

 private:
  spindle::Reactor& reactor_;
  spindle::HostPort upstream_;
  ProxyClient* peer_ = nullptr;
  std::shared_ptr<class ProxyClientFactory> upstreamFactory_;
  std::shared_ptr<spindle::Connector> connector_;
};

/// The upstream side: one per proxied connection.
class ProxyClient : public spindle::Protocol {
 public:
  explicit ProxyClient(ProxyServer* peer) : peer_(peer) {}
  void connectionMade() override { peer_->setPeer(this); }
  void dataReceived(std::string_view data) override {
    if (peer_) peer_->transport->write(data);
  }
  void connectionLost(const spindle::Failure&) override {
    if (!peer_) return;
    ProxyServer* peer = peer_;
    peer_ = nullptr;
    // Neither transport may keep the other as its producer once one of them is gone.
    peer->transport->unregisterProducer();
    peer->setPeer(nullptr);
    peer->transport->loseConnection();
  }
  /// The client's side went away first.
  void peerLost() {
    peer_ = nullptr;
    transport->unregisterProducer();
    transport->loseConnection();
  }

 private:
  ProxyServer* peer_;
};

/// Connects the upstream side of one proxied connection; a failure closes the client's side.
class ProxyClientFactory : public spindle::ClientFactory {
 public:
  explicit ProxyClientFactory(ProxyServer* server) : server_(server) {}
  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address&) override {
    if (!server_) return nullptr;
    return makeProtocol<ProxyClient>(server_);
  }
  void clientConnectionFailed(spindle::Connector& c, const spindle::Failure& reason) override {
    spindle::log::msg(spindle::log::Level::Warn, "port-forward: cannot reach {}: {}",
                      c.getDestination(), reason.getErrorMessage());
    if (server_) server_->transport->loseConnection();
  }
  /// The client's side went away before the upstream side connected.
  void forget() { server_ = nullptr; }

 private:
  ProxyServer* server_;
};

void ProxyServer::connectionMade() {
  // Read nothing until there is somewhere to send it.
  transport->pauseProducing();
  upstreamFactory_ = std::make_shared<ProxyClientFactory>(this);
  connector_ = reactor_.connectTCP(upstream_.host, upstream_.port, upstreamFactory_);
}

void ProxyServer::setPeer(ProxyClient* peer) {
  peer_ = peer;
  if (!peer) return;
  transport->registerProducer(*peer->transport, true);
  peer->transport->registerProducer(*transport, true);
  transport->resumeProducing();
}

void ProxyServer::dataReceived(std::string_view data) {
  if (peer_) peer_->transport->write(data);
}

void ProxyServer::connectionLost(const spindle::Failure&) {
  if (peer_) {
    ProxyClient* peer = peer_;
    peer_ = nullptr;
    transport->unregisterProducer();
    peer->peerLost();
  } else if (connector_ && connector_->state() == spindle::Connector::State::Connecting) {
    upstreamFactory_->forget();
    connector_->stopConnecting();
  }
}

int main(int argc, char** argv) {
  CLI::App app{
      "Port forwarder: joins every client to a new connection to UPSTREAM, with "
      "backpressure both ways.",
      "port-forward"};
  examples::ServerOptions options;
  examples::addServerOptions(app, options);
  std::string upstreamText;
  app.add_option("upstream", upstreamText, "UPSTREAM_HOST:PORT to forward to")
      ->required()
      ->check(examples::kHostPort);
  if (auto status = examples::parse(app, argc, argv)) return *status;
  spindle::HostPort upstream = *examples::parseHostPort(upstreamText);

  spindle::Reactor reactor;
  auto factory = std::make_shared<spindle::Factory>();
  factory->protocol = [&] { return std::make_unique<ProxyServer>(reactor, upstream); };
  auto port = examples::listen(reactor, options, factory, app.get_name());
  if (!port) return 1;
  reactor.callWhenRunning(
      [&] { examples::say("Forwarding to {} on port {}.", upstream, port->getHost().port()); });
  reactor.run({.installSignalHandlers = true});
  return 0;
}
