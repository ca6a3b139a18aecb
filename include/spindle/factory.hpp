// Factories: they build one Protocol per connection and hear about connection attempts.
#pragma once

#include <functional>
#include <memory>

#include "spindle/address.hpp"
#include "spindle/failure.hpp"
#include "spindle/protocol.hpp"

namespace spindle {

class Connector;

/// Builds protocols for connections, as Twisted's Factory.
///
/// Ports and connectors hold their factory by shared_ptr, so user code may drop its own
/// reference at any time, even inside a callback. startFactory/stopFactory are counted: they
/// run when the first port or connector starts using the factory and when the last one stops.
class Factory {
 public:
  virtual ~Factory() = default;

  /// Makes the protocol for a new connection from `addr`, or nullptr to refuse it (the connection
  /// is then closed). The default calls `protocol` and sets the new protocol's factory to this.
  virtual std::unique_ptr<Protocol> buildProtocol(const Address& addr);

  /// Runs before the first port or connector uses this factory.
  virtual void startFactory() {}
  /// Runs after the last port or connector stopped using this factory.
  virtual void stopFactory() {}

  /// Counted start/stop, called by ports and connectors (Twisted's doStart/doStop).
  void doStart();
  void doStop();
  /// How many ports and connectors are using the factory now.
  int numPorts() const noexcept { return numPorts_; }

  /// What the default buildProtocol makes (Twisted's `Factory.protocol`).
  std::function<std::unique_ptr<Protocol>()> protocol;

  /// A factory whose buildProtocol makes a default-constructed P (Twisted's forProtocol).
  template <class P>
  static std::shared_ptr<Factory> forProtocol() {
    auto f = std::make_shared<Factory>();
    f->protocol = [] { return std::make_unique<P>(); };
    return f;
  }

 protected:
  /// Makes a P from `args` with its factory set to this; for use in buildProtocol overrides.
  template <class P, class... A>
  std::unique_ptr<P> makeProtocol(A&&... args) {
    auto p = std::make_unique<P>(std::forward<A>(args)...);
    p->setFactory(this);
    return p;
  }

 private:
  int numPorts_ = 0;
};

/// A factory for servers (listenTCP). Twisted's ServerFactory adds nothing to Factory either.
class ServerFactory : public Factory {};

/// A factory for clients (connectTCP), told about each connection attempt and its outcome.
/// Each callback may call `connector.connect()` to try again.
class ClientFactory : public Factory {
 public:
  /// The connector has started to connect (called from within connectTCP / connect()).
  virtual void startedConnecting(Connector& connector) { (void)connector; }
  /// The attempt failed: ConnectionRefusedError, TimeoutError, DNSLookupError, UserError, ...
  virtual void clientConnectionFailed(Connector& connector, const Failure& reason) {
    (void)connector, (void)reason;
  }
  /// An established connection ended; `reason` is what its protocol's connectionLost got.
  virtual void clientConnectionLost(Connector& connector, const Failure& reason) {
    (void)connector, (void)reason;
  }
};

}  // namespace spindle
