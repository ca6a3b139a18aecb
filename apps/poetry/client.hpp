// The poetry clients as Deferreds (the tutorial's get_poetry and its transform client): one
// connection each, whose outcome is one string, with cancellation and a timeout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <spindle/spindle.hpp>

namespace poetry {

// --- One connection, one string -----------------------------------------------------------------

/// A client factory for one connection whose outcome is one string, fired once on deferred().
///
/// Its Deferred's cancel() (and so a timeout added to it) calls stop(): the attempt is stopped
/// (stopConnecting) or the connection closed (loseConnection), and nothing that follows — the
/// UserError of the stopped attempt, the connection's end — fires it again: it errbacks with
/// CancelledError (DeferredTimeoutError after a timeout). A connection that completes after
/// stop() is closed at once. A failed attempt errbacks with its reason (ConnectionRefusedError,
/// DNSLookupError, connectTCP's TimeoutError, ...). The Deferred holds the factory only weakly.
class OneShotClientFactory : public spindle::ClientFactory {
 public:
  OneShotClientFactory();

  /// The chain that fires with the outcome; every call returns the same chain.
  spindle::Deferred<std::string> deferred() const { return d_; }
  /// Stops the attempt or closes the connection; the Deferred is left to cancel() to fire.
  void stop();
  /// True once stop() was called.
  bool stopped() const noexcept { return stopped_; }

  void startedConnecting(spindle::Connector& connector) override;
  void clientConnectionFailed(spindle::Connector& connector,
                              const spindle::Failure& reason) override;
  void clientConnectionLost(spindle::Connector&, const spindle::Failure&) override {}

 protected:
  /// Called by the protocol's connectionMade: closes it at once when already stopped.
  void protocolStarted(spindle::Protocol& protocol);
  /// Called by the protocol's connectionLost.
  void protocolEnded(spindle::Protocol& protocol);
  /// True once the outcome is decided (fired or stopped): later events change nothing.
  bool settled() const { return stopped_ || d_.called(); }
  /// Fire the Deferred, unless settled.
  void succeed(std::string value);
  void fail(const spindle::Failure& reason);

 private:
  // The canceller's way back to this factory, expiring with it (the factory is the connector's,
  // the Deferred the caller's: neither owns the other).
  std::shared_ptr<OneShotClientFactory*> self_;
  spindle::Deferred<std::string> d_;
  std::weak_ptr<spindle::Connector> connector_;
  spindle::Protocol* protocol_ = nullptr;  // the live protocol, between made and lost
  bool stopped_ = false;
};

// --- Fetching a poem ---------------------------------------------------------------------------

/// Hears each chunk of a poem as it arrives: its size and the peer it came from.
using ChunkHook = std::function<void(std::size_t bytes, const spindle::Address& peer)>;

/// How getPoetry fetches.
struct FetchOptions {
  /// Seconds for the whole fetch (name lookup, connect and poem), from the call; after it the
  /// Deferred fails with DeferredTimeoutError and the connection is closed. nullopt: none.
  std::optional<double> timeout;
  /// connectTCP's own limit on the lookup and connect (its failure is a TimeoutError).
  double connectTimeout = 30;
  /// Called from the protocol's dataReceived for each chunk, until the outcome is decided.
  ChunkHook onChunk;
};

class PoetryClientFactory;

/// Keeps every byte until the server closes (the tutorial's PoetryProtocol).
class PoetryProtocol : public spindle::ProtocolFor<PoetryClientFactory> {
 public:
  void connectionMade() override;
  void dataReceived(std::string_view data) override;
  void connectionLost(const spindle::Failure& reason) override;
  /// What arrived so far (given to the factory when the connection ends).
  const std::string& poem() const noexcept { return poem_; }

 private:
  std::string poem_;
};

/// Fires with the poem when the server closes cleanly (ConnectionDone), as in the tutorial;
/// any other end (ConnectionLost, a reset) is a poem cut short and errbacks with that reason.
class PoetryClientFactory : public OneShotClientFactory {
 public:
  explicit PoetryClientFactory(ChunkHook onChunk = {}) : onChunk_(std::move(onChunk)) {}
  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address& addr) override;

 private:
  friend class PoetryProtocol;
  void chunkReceived(std::size_t bytes, const spindle::Address& peer);
  void poemEnded(PoetryProtocol& protocol, std::string poem, const spindle::Failure& reason);

  ChunkHook onChunk_;
};

/// Fetches the poem at host:port (the tutorial's get_poetry). Fires with the poem; fails with
/// the connection's reason (see OneShotClientFactory, PoetryClientFactory) or, after
/// options.timeout, DeferredTimeoutError. cancel() stops it with CancelledError.
spindle::Deferred<std::string> getPoetry(spindle::Reactor& reactor, std::string host, uint16_t port,
                                         FetchOptions options = {});

/// getPoetry as a coroutine: `std::string poem = co_await getPoetryTask(reactor, host, port);`.
/// Cancelling the Task's Deferred cancels the fetch.
spindle::Task<std::string> getPoetryTask(spindle::Reactor& reactor, std::string host, uint16_t port,
                                         FetchOptions options = {});

// --- The transform client ----------------------------------------------------------------------

/// The transform server closed the connection without an answer (it could not transform).
class NoAnswerError : public spindle::ProtocolError {
 public:
  NoAnswerError();
};

class TransformClientFactory;

/// Sends one netstring request `NAME.POEM` and takes the one netstring answer, then closes.
class TransformClientProtocol
    : public spindle::ProtocolFor<TransformClientFactory, spindle::NetstringReceiver> {
 public:
  void connectionMade() override;
  void stringReceived(std::string_view answer) override;
  void connectionLost(const spindle::Failure& reason) override;

 private:
  bool answered_ = false;
};

/// Fires with the transformed poem, the first netstring answered. Errbacks with NoAnswerError
/// when the server closes without answering, NetstringParseError for a malformed answer (or
/// one longer than maxAnswer()), or the connection's reason.
class TransformClientFactory : public OneShotClientFactory {
 public:
  TransformClientFactory(std::string_view name, std::string_view poem);
  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address& addr) override;
  /// The request's payload, `NAME.POEM`.
  const std::string& request() const noexcept { return request_; }
  /// The longest answer accepted: 1 MiB, or four times the request when that is more.
  std::size_t maxAnswer() const noexcept;

 private:
  friend class TransformClientProtocol;
  void answered(std::string_view answer) { succeed(std::string(answer)); }
  void transformEnded(TransformClientProtocol& protocol, const spindle::Failure& reason);

  std::string request_;
};

/// Asks the transform server at host:port to transform `poem` with `name` (the tutorial's
/// TransformClientFactory and its proxy). Fires with the answer; fails as TransformClientFactory
/// says, or with DeferredTimeoutError after `timeout` seconds.
spindle::Deferred<std::string> transformPoem(spindle::Reactor& reactor, std::string host,
                                             uint16_t port, std::string_view name,
                                             std::string_view poem,
                                             std::optional<double> timeout = std::nullopt);

}  // namespace poetry
