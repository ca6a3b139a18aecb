// The poetry transformation service of the Twisted tutorial's transform server: a client sends
// one netstring `NAME.POEM`; the server answers with one netstring, the poem transformed by the
// transform NAME, and closes. A request it cannot answer (no '.', an unknown NAME, a transform
// that fails) gets no answer, only the close.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <spindle/spindle.hpp>

#include "idle_watch.hpp"

namespace poetry {

// --- The service ------------------------------------------------------------------------------

/// A request that is not `NAME.POEM`: it has no '.'.
class BadRequestError : public spindle::ProtocolError {
 public:
  BadRequestError();
};

/// A request named a transform the service does not have.
class UnknownTransformError : public spindle::ProtocolError {
 public:
  explicit UnknownTransformError(std::string_view name);
};

/// A transform could not transform the poem (`explode` always throws it).
class TransformFailed : public spindle::Error {
 public:
  using spindle::Error::Error;
};

/// The transforms a server offers, by name (the tutorial's TransformService and its factory's
/// `xform_` methods).
class TransformService {
 public:
  /// Returns the transformed poem, or throws (any exception) when it cannot.
  using Transform = std::function<std::string(std::string_view poem)>;

  /// A service offering cummingsify, explode, reverse and uppercase.
  static TransformService standard();

  /// Offers `transform` as `name`, replacing a transform of that name. Throws
  /// std::invalid_argument when `name` is empty or holds a '.' (no request could name it).
  void add(std::string name, Transform transform);
  bool has(std::string_view name) const;
  /// The names offered, sorted.
  std::vector<std::string> names() const;
  /// `poem` transformed by `name`. Throws UnknownTransformError when there is no such
  /// transform; what the transform throws passes through.
  std::string transform(std::string_view name, std::string_view poem) const;

 private:
  std::map<std::string, Transform, std::less<>> transforms_;
};

/// The tutorial's transform: ASCII letters lower-cased, every other byte kept (as the tutorial's
/// Python 2 `str.lower()` does on bytes), so UTF-8 text stays valid.
std::string cummingsify(std::string_view poem);
/// ASCII letters upper-cased, every other byte kept.
std::string uppercase(std::string_view poem);
/// The poem's characters (UTF-8 code points) in reverse order: each start byte moves with the
/// continuation bytes after it, so valid UTF-8 stays valid.
std::string reverse(std::string_view poem);
/// Always throws TransformFailed: a transform that fails on purpose, so a client can see what a
/// failing transform looks like on the wire (the close, with no answer).
std::string explode(std::string_view poem);

/// A request split at its first '.': `name` before it, `poem` after it.
struct TransformRequest {
  std::string_view name;
  std::string_view poem;
};
/// Splits `NAME.POEM`; nullopt when there is no '.'.
std::optional<TransformRequest> parseRequest(std::string_view request);

// --- The server -------------------------------------------------------------------------------

/// The longest request (the netstring's payload, `NAME.POEM`) a server accepts by default.
inline constexpr std::size_t kDefaultMaxRequest = 1 << 20;

/// How a transform server treats its clients.
struct TransformOptions {
  /// The longest request accepted (NetstringReceiver::MAX_LENGTH); a longer one closes the
  /// connection with NetstringParseError as soon as its length shows it.
  std::size_t maxLength = kDefaultMaxRequest;
  /// Seconds a client may make no progress (send no byte of its request, take no byte of its
  /// answer) before it is dropped; nullopt never drops one.
  std::optional<double> idleTimeout;
};

class TransformFactory;

/// One client: reads one request, answers it with one netstring or with nothing, then closes
/// (loseConnection, so the answer is flushed first). Nothing after the first request is read.
/// A request it does not answer closes the connection with the reason: BadRequestError,
/// UnknownTransformError, whatever the transform threw, or the NetstringParseError of a
/// malformed netstring. Reports every connection that did not end cleanly after an answer to
/// its factory (TransformFactory::onFailure).
class TransformProtocol
    : public spindle::ProtocolFor<TransformFactory, spindle::NetstringReceiver> {
 public:
  explicit TransformProtocol(spindle::IReactorTime& time);

  void connectionMade() override;
  void dataReceived(std::string_view data) override;
  void stringReceived(std::string_view request) override;
  void connectionLost(const spindle::Failure& reason) override;

  /// True once the answer was written.
  bool answered() const noexcept { return answered_; }
  /// True while the idle watch runs.
  bool watchingIdle() const noexcept { return idle_.watching(); }

 private:
  bool clientMoved();
  void dropClient();

  IdleWatch idle_;
  std::size_t received_ = 0;  // bytes of the request read so far
  std::size_t written_ = 0;   // bytes of the answer written
  std::size_t progressAtLastLook_ = 0;
  bool answered_ = false;
  std::optional<spindle::Failure> dropped_;  // the IdleTimeoutError, once dropped for it
};

/// Builds a TransformProtocol per connection, all sharing one service and one set of options.
class TransformFactory : public spindle::ServerFactory {
 public:
  TransformFactory(spindle::IReactorTime& time, std::shared_ptr<const TransformService> service,
                   TransformOptions options);
  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address& addr) override;

  const TransformService& service() const noexcept { return *service_; }
  const TransformOptions& options() const noexcept { return options_; }

  /// Hears every connection that did not end cleanly after an answer, with why: the reasons
  /// TransformProtocol closes with, IdleTimeoutError for an idle client, or how the connection
  /// was lost (ConnectionDone for a client that closed before its request). May be empty.
  std::function<void(const spindle::Address& peer, const spindle::Failure& why)> onFailure;

 private:
  spindle::IReactorTime& time_;
  std::shared_ptr<const TransformService> service_;
  TransformOptions options_;
};

}  // namespace poetry
