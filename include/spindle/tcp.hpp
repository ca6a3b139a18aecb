// TCP endpoints returned by the reactor: ListeningPort (listenTCP) and Connector (connectTCP).
#pragma once

#include <memory>

#include "spindle/address.hpp"

namespace spindle {

class ClientFactory;

/// A listening TCP socket made by Reactor::listenTCP.
/// The reactor keeps it open until stopListening() or shutdown, whether or not the caller
/// keeps the returned handle.
class ListeningPort {
 public:
  virtual ~ListeningPort() = default;
  /// The address actually bound: with port 0, the port the kernel picked.
  virtual Address getHost() const = 0;
  /// Closes the listening socket; connections already accepted go on. The factory's doStop runs
  /// at the end of the current reactor step. Idempotent.
  virtual void stopListening() = 0;
  /// True until stopListening() or shutdown.
  virtual bool listening() const = 0;
};

/// One outgoing TCP connection's life, made by Reactor::connectTCP (Twisted's Connector).
/// It can connect again after a failure or a lost connection, from the factory's callbacks.
/// The reactor keeps it alive only while it connects or is connected: code that will call
/// connect() later (a reconnecting factory) keeps `shared_from_this()`.
class Connector : public std::enable_shared_from_this<Connector> {
 public:
  enum class State { Disconnected, Connecting, Connected };
  virtual ~Connector() = default;

  /// The host (name or literal) and port this connector connects to.
  virtual HostPort getDestination() const = 0;
  /// Abandons an attempt under way: the factory hears clientConnectionFailed with UserError.
  /// Throws Error when not connecting.
  virtual void stopConnecting() = 0;
  /// Stops connecting, or loses the connection if connected; nothing if disconnected.
  virtual void disconnect() = 0;
  /// Starts a new attempt; only when disconnected (throws Error otherwise).
  virtual void connect() = 0;
  virtual State state() const = 0;
  virtual ClientFactory& factory() const = 0;
};

}  // namespace spindle
