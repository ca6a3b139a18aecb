// The poetry library: the pieces of the "Twistier Poetry" programs (poetry-server, get-poetry)
// that tests can drive without sockets — address parsing, character counting, the slow poetry
// server's protocol and the poetry client's protocol and factory.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <spindle/spindle.hpp>

#include "idle_watch.hpp"

namespace poetry {

// --- Addresses and text ------------------------------------------------------------------------

/// The host used when an address is given as a bare port.
inline constexpr std::string_view kDefaultHost = "127.0.0.1";

/// A command-line address that is not one of the accepted forms; `what()` says why.
class AddressError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Parses a get-poetry address: `PORT`, `HOST:PORT` or `[IPV6]:PORT`, where PORT is 1..65535 in
/// decimal digits and HOST is a name or an IPv4 literal (IPv6 literals must be bracketed).
/// A bare PORT means kDefaultHost. Throws AddressError for anything else.
spindle::HostPort parseAddress(std::string_view text);

/// Parses a decimal port of 1..65535 (digits only); nullopt otherwise.
std::optional<uint16_t> parsePort(std::string_view text);

/// The number of UTF-8 code points in `bytes`: the bytes that are not continuation bytes
/// (10xxxxxx). Invalid sequences are not checked: each non-continuation byte counts as one.
std::size_t countCodePoints(std::string_view bytes) noexcept;

/// An elapsed time as Python's timedelta prints it: `H:MM:SS.ffffff` ("0:00:01.234567").
std::string formatElapsed(std::chrono::duration<double> elapsed);

// --- The slow poetry server -------------------------------------------------------------------

/// How a server sends its poem: `numBytes` bytes every `delay` seconds (the first at once);
/// delay 0 sends the whole poem at once. A client that takes none of its poem for `idleTimeout`
/// seconds is dropped; nullopt never drops one.
struct ServeOptions {
  double delay = 0.7;
  std::size_t numBytes = 10;
  std::optional<double> idleTimeout = std::nullopt;
};

/// Sends one poem to one client on its own schedule, then closes with loseConnection().
/// Timed with an IReactorTime so tests can drive it with testing::Clock.
///
/// It is its transport's producer, so a client that reads slowly costs bounded memory: with
/// delay 0 the poem goes out in chunks of kChunk while the transport takes them, pausing at its
/// high water mark; with a delay, the schedule stops while paused and picks up on resume.
///
/// With an idle timeout, a client counts as idle while bytes wait in the transport's buffer and
/// none of them leaves it (the kernel takes none: the client does not read). An IdleWatch looks
/// at `sent() - bufferedSize()` a few times per timeout; a resume counts as progress. An idle
/// client's connection is aborted (dropIdle) and onDropped hears why. A client whose whole poem
/// went to the kernel at once is not watched: its connection closes in this reactor step.
class SlowPoetryProtocol : public spindle::Protocol, public spindle::Producer {
 public:
  static constexpr std::size_t kChunk = 64 * 1024;

  SlowPoetryProtocol(spindle::IReactorTime& time, std::shared_ptr<const std::string> poem,
                     ServeOptions options);
  void connectionMade() override;
  /// Cancels the pending send and the idle watch: a client that went away stops its schedule.
  void connectionLost(const spindle::Failure& reason) override;
  /// How many bytes of the poem were written so far.
  std::size_t sent() const noexcept { return offset_; }
  /// True while the idle watch runs.
  bool watchingIdle() const noexcept { return idle_.watching(); }

  /// Hears the peer and the IdleTimeoutError when an idle client is dropped. May be empty.
  std::function<void(const spindle::Address& peer, const spindle::Failure& why)> onDropped;

  // Producer: the transport tells us when its buffer is too full and when it drained.
  void pauseProducing() override;
  void resumeProducing() override;
  void stopProducing() override {}

 private:
  void sendNext();
  bool clientMoved();
  void dropClient();

  spindle::IReactorTime& time_;
  std::shared_ptr<const std::string> poem_;
  ServeOptions options_;
  std::size_t offset_ = 0;
  std::size_t handedAtLastLook_ = 0;  // sent() - bufferedSize() when the watch last looked
  bool paused_ = false;
  spindle::DelayedCall next_;
  IdleWatch idle_;
};

/// Builds a SlowPoetryProtocol per connection; `onConnection` (if set) hears each peer first,
/// and `onDropped` (if set) is given to every protocol.
class SlowPoetryFactory : public spindle::ServerFactory {
 public:
  SlowPoetryFactory(spindle::IReactorTime& time, std::shared_ptr<const std::string> poem,
                    ServeOptions options);
  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address& addr) override;

  std::function<void(const spindle::Address&)> onConnection;
  std::function<void(const spindle::Address& peer, const spindle::Failure& why)> onDropped;

 private:
  spindle::IReactorTime& time_;
  std::shared_ptr<const std::string> poem_;
  ServeOptions options_;
};

// --- The poetry client (the tutorial's client 2.0) --------------------------------------------

/// How one download ended.
enum class Outcome {
  Poem,            ///< The server closed cleanly (ConnectionDone): `poem` is complete.
  ConnectFailed,   ///< clientConnectionFailed: `reason` is the Failure's message.
  ConnectionLost,  ///< The connection ended uncleanly; what arrived is not counted as a poem.
  TimedOut,        ///< Not finished within the timeout; the connection was dropped.
};

/// The result of one task (one address of the command line).
struct TaskResult {
  int task = 0;               ///< 1-based, in order of the addresses.
  spindle::HostPort address;  ///< As given on the command line.
  Outcome outcome = Outcome::Poem;
  std::string poem;    ///< The poem when outcome is Poem, else what had arrived.
  std::string reason;  ///< Why it failed (Failure::getErrorMessage()), else empty.
};

/// What a PoetryClientFactory tells its owner. Every member may be empty.
struct ClientEvents {
  /// A chunk of `bytes` bytes arrived from `peer` (the tutorial's "got N bytes" line).
  std::function<void(int task, std::size_t bytes, const spindle::Address& peer)> chunk;
  /// The first dataReceived / connectionLost of this task's protocol, called before anything
  /// else happens in that callback (get-poetry --stack prints the call chain from here).
  std::function<void()> firstData;
  std::function<void()> firstLost;
  /// The task is over; called exactly once per task.
  std::function<void(const TaskResult&)> done;
};

class PoetryClientFactory;

/// Downloads one poem: keeps every byte until the server closes, as the tutorial's
/// PoetryProtocol, and reports to its factory.
class PoetryProtocol : public spindle::ProtocolFor<PoetryClientFactory> {
 public:
  void connectionMade() override;
  void dataReceived(std::string_view data) override;
  void connectionLost(const spindle::Failure& reason) override;

  const std::string& poem() const noexcept { return poem_; }

 private:
  std::string poem_;
};

/// One task of get-poetry: builds its PoetryProtocol, runs its timeout, and reports the outcome
/// exactly once through ClientEvents::done. A timeout (when given) starts at startedConnecting
/// (or at startTimer()) and is cancelled when the task ends in time; when it fires, the
/// connection is dropped with loseConnection() (or the attempt stopped) and the task reported
/// as TimedOut.
class PoetryClientFactory : public spindle::ClientFactory {
 public:
  PoetryClientFactory(spindle::IReactorTime& time, int task, spindle::HostPort address,
                      std::optional<double> timeout, ClientEvents events);
  ~PoetryClientFactory() override;

  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address& addr) override;
  void startedConnecting(spindle::Connector& connector) override;
  void clientConnectionFailed(spindle::Connector& connector,
                              const spindle::Failure& reason) override;
  void clientConnectionLost(spindle::Connector& connector, const spindle::Failure& reason) override;

  /// Starts the timeout now (startedConnecting does this); no effect without a timeout or when
  /// already started.
  void startTimer();
  /// True once the task has been reported.
  bool finished() const noexcept { return finished_; }
  int task() const noexcept { return task_; }
  const spindle::HostPort& address() const noexcept { return address_; }
  /// The pending timeout (inactive when none, cancelled or fired).
  const spindle::DelayedCall& timer() const noexcept { return timer_; }

 private:
  friend class PoetryProtocol;
  // Called by PoetryProtocol.
  void protocolStarted(PoetryProtocol& protocol);
  void chunkReceived(std::size_t bytes, const spindle::Address& peer);
  void protocolEnded(PoetryProtocol& protocol, const spindle::Failure& reason);
  void firstEvent(bool lost);

  void timedOut();
  void finish(Outcome outcome, std::string poem, std::string reason);

  spindle::IReactorTime& time_;
  int task_;
  spindle::HostPort address_;
  std::optional<double> timeout_;
  ClientEvents events_;
  spindle::DelayedCall timer_;
  std::weak_ptr<spindle::Connector> connector_;  // set by startedConnecting; the reactor owns it
  PoetryProtocol* protocol_ = nullptr;           // the live protocol, between made and lost
  bool timerStarted_ = false;
  bool sawData_ = false, sawLost_ = false;
  bool finished_ = false;
};

/// The "Task N: ..." / "Failed to connect ..." line for a finished task (no newline).
std::string describe(const TaskResult& result, std::optional<double> timeout);

}  // namespace poetry
