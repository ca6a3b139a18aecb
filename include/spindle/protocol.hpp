// Protocol: the per-connection handler of events, as Twisted's Protocol.
#pragma once

#include <cassert>
#include <string_view>
#include <type_traits>

#include "spindle/failure.hpp"
#include "spindle/transport.hpp"

namespace spindle {

class Factory;

/// The opt-in to half-closed connections (Twisted's IHalfCloseableProtocol): a Protocol that
/// also derives from this hears the peer's end of stream as readConnectionLost() and may go on
/// writing, instead of losing the whole connection at the peer's FIN.
///
/// The connection ends, with connectionLost(ConnectionDone), once both halves are shut: the
/// peer's (readConnectionLost) and ours (Transport::loseWriteConnection, then
/// writeConnectionLost). loseConnection() and abortConnection() end it at any time, as always.
class HalfCloseableProtocol {
 public:
  virtual ~HalfCloseableProtocol() = default;
  /// The peer will send nothing more (it shut its write side): no dataReceived follows. Called
  /// once. Writing still works; finish with loseConnection() or loseWriteConnection().
  virtual void readConnectionLost() = 0;
  /// Our write side was shut: loseWriteConnection() sent every buffered byte, then the FIN.
  /// Called once; writes from now on are dropped.
  virtual void writeConnectionLost() {}
};

/// Handles one connection's events. One instance per connection, built by a Factory.
///
/// The reactor calls makeConnection once, then dataReceived any number of times, then
/// connectionLost exactly once (a HalfCloseableProtocol also hears readConnectionLost and
/// writeConnectionLost in between). Every callback may close the connection, stop the reactor or
/// drop the factory: the protocol and its transport stay alive until the callback returns.
/// An exception thrown from connectionMade, dataReceived or a half-close callback is logged with
/// the peer's address and closes this connection (its reason is that exception); other
/// connections go on.
class Protocol {
 public:
  virtual ~Protocol() = default;

  /// Stores the transport, sets `connected`, then calls connectionMade().
  virtual void makeConnection(Transport& t);
  /// The connection is up; `transport` is set.
  virtual void connectionMade() {}
  /// Bytes arrived, in order, split arbitrarily. `data` is valid only during the call.
  virtual void dataReceived(std::string_view data) { (void)data; }
  /// The connection is gone; `reason` says why (ConnectionDone, ConnectionLost, ConnectionAborted,
  /// or the exception a callback threw). The transport must not be used after this returns.
  virtual void connectionLost(const Failure& reason) { (void)reason; }

  /// Where the transport sends half-close events: this protocol itself if it derives from
  /// HalfCloseableProtocol, else nullptr (the peer's FIN then ends the connection). A protocol
  /// that stands in front of another (ProtocolWrapper) returns the other's. Asked only when a
  /// half-close happens, so it costs nothing on the data path.
  virtual HalfCloseableProtocol* halfCloseable() noexcept {
    return dynamic_cast<HalfCloseableProtocol*>(this);
  }

  /// The factory that built this protocol, or nullptr (see ProtocolFor for a typed accessor).
  Factory* factory() const noexcept { return factory_; }
  /// Set by Factory::buildProtocol (or by the reactor when a custom buildProtocol did not).
  void setFactory(Factory* f) noexcept { factory_ = f; }

  /// The connection's transport, set by makeConnection; valid until connectionLost returns.
  Transport* transport = nullptr;
  /// True between makeConnection and connectionLost.
  bool connected = false;

 private:
  Factory* factory_ = nullptr;
};

/// A Protocol whose factory() returns its factory's real type, so user code needs no casts:
/// `class Poetry : public ProtocolFor<PoetryClientFactory> { ... factory().poemReceived(p); }`.
/// `Base` lets it sit on a ready-made protocol, with that protocol's constructors:
/// `class Chat : public ProtocolFor<ChatFactory, TimeoutMixin<LineReceiver>>`.
template <class F, class Base = Protocol>
class ProtocolFor : public Base {
  static_assert(std::is_base_of_v<Protocol, Base>, "ProtocolFor's Base must be a Protocol");

 public:
  using Base::Base;

  F& factory() const noexcept {
    assert(Protocol::factory() != nullptr && "protocol was not built by a factory");
    assert(dynamic_cast<F*>(Protocol::factory()) != nullptr && "factory of another type");
    return static_cast<F&>(*Protocol::factory());
  }
};

}  // namespace spindle
