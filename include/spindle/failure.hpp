// The error types spindle reports, and Failure: a copyable carrier of one of them.
#pragma once

#include <exception>
#include <memory>
#include <source_location>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <typeinfo>

namespace spindle {

/// Base of every error spindle raises or reports; `what()` is a sentence for people.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An error that carries the operating system's error code (errno) that caused it.
class SystemError : public Error {
 public:
  SystemError(std::string message, std::error_code code);
  /// The errno behind the error, as a std::error_code in the system category.
  const std::error_code& code() const noexcept { return code_; }

 private:
  std::error_code code_;
};

// --- Why a connection ended (the reason given to connectionLost). -------------------------

/// Base of the reasons a connection ended.
class ConnectionClosed : public SystemError {
 public:
  using SystemError::SystemError;
};

/// The connection was closed cleanly: the peer sent EOF, or loseConnection() completed.
class ConnectionDone : public ConnectionClosed {
 public:
  ConnectionDone();
  explicit ConnectionDone(std::string message);
};

/// The connection was lost in a non-clean fashion; `code()` holds the errno when there was one.
class ConnectionLost : public ConnectionClosed {
 public:
  explicit ConnectionLost(std::error_code code = {});
  ConnectionLost(std::string message, std::error_code code = {});
};

/// The connection was closed by abortConnection(): buffered bytes were discarded.
class ConnectionAborted : public ConnectionLost {
 public:
  ConnectionAborted();
};

/// The peer broke the protocol (a malformed or oversized frame); the connection was closed.
class ProtocolError : public ConnectionLost {
 public:
  explicit ProtocolError(std::string message) : ConnectionLost(std::move(message), {}) {}
};

/// A malformed netstring: `what()` names the fault (a non-digit length, a leading zero, ...).
class NetstringParseError : public ProtocolError {
 public:
  using ProtocolError::ProtocolError;
};

/// A line or length-prefixed string longer than the receiver's MAX_LENGTH.
class FrameTooLongError : public ProtocolError {
 public:
  using ProtocolError::ProtocolError;
};

/// The connection was closed because it stayed idle past its timeout (TimeoutMixin).
class IdleTimeoutError : public ConnectionLost {
 public:
  explicit IdleTimeoutError(double seconds);
};

// --- Why a connection attempt failed (the reason given to clientConnectionFailed). ----------

/// Base of the reasons an outgoing connection could not be made.
class ConnectError : public SystemError {
 public:
  explicit ConnectError(std::string message, std::error_code code = {});
};

/// The peer refused the connection (ECONNREFUSED, or a TCP self-connection).
class ConnectionRefusedError : public ConnectError {
 public:
  explicit ConnectionRefusedError(std::string detail = {});
};

/// The connection attempt did not finish within the timeout given to connectTCP.
class TimeoutError : public ConnectError {
 public:
  TimeoutError();
};

/// The host name could not be resolved to an address.
class DNSLookupError : public ConnectError {
 public:
  explicit DNSLookupError(std::string detail);
};

/// The user cancelled the attempt with Connector::stopConnecting().
class UserError : public ConnectError {
 public:
  UserError();
};

// --- Misuse of an API, raised at the call. -------------------------------------------------

/// cancel(), reset() or delay() on a DelayedCall that has already run; or callback()/errback()
/// on a Deferred that has already fired.
class AlreadyCalled : public Error {
 public:
  AlreadyCalled();
  explicit AlreadyCalled(std::string message) : Error(std::move(message)) {}
};

/// cancel(), reset() or delay() on a DelayedCall that was already cancelled.
class AlreadyCancelled : public Error {
 public:
  AlreadyCancelled();
};

/// stop() on a reactor that is not running (or is already stopping).
class ReactorNotRunning : public Error {
 public:
  ReactorNotRunning();
};

/// run() on a reactor that is already running.
class ReactorAlreadyRunning : public Error {
 public:
  ReactorAlreadyRunning();
};

/// run() on a reactor that has already run and stopped: reactors cannot be restarted.
class ReactorNotRestartable : public Error {
 public:
  ReactorNotRestartable();
};

/// listenTCP could not bind or listen; `code()` holds the errno.
class CannotListenError : public SystemError {
 public:
  CannotListenError(const std::string& interface, int port, std::error_code code);
};

/// sendString with a string too long for the length prefix (Int8/Int16/Int32StringReceiver).
class StringTooLongError : public Error {
 public:
  using Error::Error;
};

/// An operation was cancelled before it completed.
class CancelledError : public Error {
 public:
  CancelledError();
};

/// A Deferred given addTimeout() did not fire in time, so it was cancelled (Twisted's
/// defer.TimeoutError). Not a TimeoutError: that one is about connection attempts.
class DeferredTimeoutError : public Error {
 public:
  explicit DeferredTimeoutError(double seconds);
  /// The timeout that expired, in seconds.
  double timeout() const noexcept { return seconds_; }

 private:
  double seconds_;
};

/// A copyable record of an exception: why something failed, as Twisted's Failure.
///
/// It holds the original exception, so `check<T>()` matches on the real type hierarchy and
/// `raiseException()` rethrows it unchanged. Copies share the same exception object. It also
/// records where it came from (`where()`): the code that made it, or for an exception thrown
/// by a Deferred's callback, the place that callback was added.
class Failure {
 public:
  /// Wraps an exception already caught, e.g. `Failure(std::current_exception())`.
  explicit Failure(std::exception_ptr error,
                   std::source_location where = std::source_location::current());
  /// Wraps an exception value: `Failure(ConnectionDone())`.
  template <class E, class = std::enable_if_t<std::is_base_of_v<std::exception, E>>>
  explicit Failure(E error, std::source_location where = std::source_location::current())
      : error_(std::make_exception_ptr(error)), info_(describe(error, where)) {}

  /// True if the held exception is an E (or derives from it).
  template <class E>
  bool check() const {
    try {
      std::rethrow_exception(error_);
    } catch (const E&) {
      return true;
    } catch (...) {
      return false;
    }
  }

  /// Rethrows the held exception unless it is an E; lets a handler pass on what it cannot handle.
  template <class E>
  void trap() const {
    if (!check<E>()) std::rethrow_exception(error_);
  }

  /// Rethrows the held exception.
  [[noreturn]] void raiseException() const { std::rethrow_exception(error_); }

  /// The held exception's message (`what()`).
  const std::string& getErrorMessage() const noexcept { return info_->message; }
  /// The held exception's type, demangled: "spindle::ConnectionDone".
  const std::string& typeName() const noexcept { return info_->type; }
  /// The errno behind the failure when it is a SystemError, else an empty code.
  std::error_code code() const noexcept { return info_->code; }
  /// The exception itself.
  const std::exception_ptr& value() const noexcept { return error_; }
  /// Where the failure came from (file, line, function); line() is 0 when unknown.
  const std::source_location& where() const noexcept { return info_->where; }
  /// "TypeName: message", for logs.
  std::string toString() const;

 private:
  struct Info {
    std::string type;
    std::string message;
    std::error_code code;
    std::source_location where;
  };
  static std::string demangle(const char* name);
  // Knowing the type statically spares the rethrow that the exception_ptr constructor needs.
  template <class E>
  static std::shared_ptr<const Info> describe(const E& e, const std::source_location& where) {
    static const std::string type = demangle(typeid(E).name());
    std::error_code code;
    if constexpr (std::is_base_of_v<SystemError, E>) code = e.code();
    return std::make_shared<const Info>(Info{type, e.what(), code, where});
  }
  std::exception_ptr error_;
  std::shared_ptr<const Info> info_;
};

}  // namespace spindle
