// The poetry library: the pieces of the "Twistier Poetry" programs (poetry-server, get-poetry,
// poetry-proxy) that tests can drive without sockets — address parsing, character counting, the
// slow poetry server's protocol and get-poetry's report lines. The clients (getPoetry,
// transformPoem) are in client.hpp, included here.
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

#include "client.hpp"
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
/// A client that reads slowly costs bounded memory: with delay 0 the whole poem is written at
/// once as SharedBytes, so what the kernel does not take waits in the transport by reference
/// (every connection shares the one poem); with a delay the protocol is its transport's
/// producer, and the schedule stops while paused and picks up on resume.
///
/// With an idle timeout, a client counts as idle while bytes wait in the transport's buffer and
/// none of them leaves it (the kernel takes none: the client does not read). An IdleWatch looks
/// at `sent() - bufferedSize()` a few times per timeout; a resume counts as progress. An idle
/// client's connection is aborted (dropIdle) and onDropped hears why. A client whose whole poem
/// went to the kernel at once is not watched: its connection closes in this reactor step.
class SlowPoetryProtocol : public spindle::Protocol, public spindle::Producer {
 public:
  SlowPoetryProtocol(spindle::IReactorTime& time, spindle::SharedBytes poem, ServeOptions options);
  SlowPoetryProtocol(spindle::IReactorTime& time, std::shared_ptr<const std::string> poem,
                     ServeOptions options)
      : SlowPoetryProtocol(time, spindle::SharedBytes(std::move(poem)), options) {}
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
  spindle::SharedBytes poem_;
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
  spindle::SharedBytes poem_;
  ServeOptions options_;
};

// --- get-poetry's report lines ------------------------------------------------------------------

/// The line get-poetry prints for task `task` (1-based), fetched from `address` (as given):
/// `Task N: C characters of poetry` for a poem (C counts code points), `Failed to connect to:
/// HOST:PORT (REASON)` for a ConnectError, `Task N: timed out after S seconds` for a
/// DeferredTimeoutError (S is `timeout`, else the error's), `Task N: connection lost (REASON)`
/// for anything else. REASON is Failure::getErrorMessage(). No newline.
std::string describe(int task, const spindle::HostPort& address,
                     const spindle::Result<std::string>& result, std::optional<double> timeout);

}  // namespace poetry
