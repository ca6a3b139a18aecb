#include "spindle/failure.hpp"

#include "failures.hpp"

#include <cxxabi.h>
#include <fmt/format.h>

#include <cstdlib>
#include <typeinfo>

namespace spindle {

std::string Failure::demangle(const char* name) {
  int status = 0;
  char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string result = (status == 0 && out) ? out : name;
  std::free(out);
  return result;
}

namespace {

std::string withCode(std::string message, std::error_code code) {
  if (code) message += ": " + code.message();
  return message;
}

}  // namespace

SystemError::SystemError(std::string message, std::error_code code)
    : Error(std::move(message)), code_(code) {}

ConnectionDone::ConnectionDone() : ConnectionDone("Connection was closed cleanly.") {}
ConnectionDone::ConnectionDone(std::string message) : ConnectionClosed(std::move(message), {}) {}

ConnectionLost::ConnectionLost(std::error_code code)
    : ConnectionLost("Connection to the other side was lost in a non-clean fashion", code) {}
ConnectionLost::ConnectionLost(std::string message, std::error_code code)
    : ConnectionClosed(withCode(std::move(message), code), code) {}

ConnectionAborted::ConnectionAborted()
    : ConnectionLost("Connection was aborted locally using abortConnection.", {}) {}

IdleTimeoutError::IdleTimeoutError(double seconds)
    : ConnectionLost("Connection was idle for " + fmt::format("{:g}", seconds) + " seconds", {}) {}

ConnectError::ConnectError(std::string message, std::error_code code)
    : SystemError(withCode(std::move(message), code), code) {}

ConnectionRefusedError::ConnectionRefusedError(std::string detail)
    : ConnectError(detail.empty() ? "Connection was refused by other side"
                                  : "Connection was refused by other side: " + detail,
                   std::error_code(ECONNREFUSED, std::system_category())) {}

TimeoutError::TimeoutError()
    : ConnectError("User timeout caused connection failure.",
                   std::error_code(ETIMEDOUT, std::system_category())) {}

DNSLookupError::DNSLookupError(std::string detail) : ConnectError("DNS lookup failed: " + detail) {}

UserError::UserError() : ConnectError("User aborted connection.") {}

AlreadyCalled::AlreadyCalled() : Error("Tried to cancel an already-called event.") {}
AlreadyCancelled::AlreadyCancelled() : Error("Tried to cancel an already-cancelled event.") {}
ReactorNotRunning::ReactorNotRunning() : Error("Can't stop reactor that isn't running.") {}
ReactorAlreadyRunning::ReactorAlreadyRunning() : Error("Reactor is already running.") {}
ReactorNotRestartable::ReactorNotRestartable()
    : Error("Reactor has already run and stopped; it cannot be restarted.") {}

CannotListenError::CannotListenError(const std::string& interface, int port, std::error_code code)
    : SystemError(
          withCode("Couldn't listen on " + (interface.empty() ? std::string("any") : interface) +
                       ":" + std::to_string(port),
                   code),
          code) {}

CancelledError::CancelledError() : Error("The operation was cancelled.") {}

DeferredTimeoutError::DeferredTimeoutError(double seconds)
    : Error("Deferred timed out after " + fmt::format("{:g}", seconds) + " seconds"),
      seconds_(seconds) {}

Failure::Failure(std::exception_ptr error, std::source_location where) : error_(std::move(error)) {
  auto info = std::make_shared<Info>();
  info->where = where;
  try {
    std::rethrow_exception(error_);
  } catch (const SystemError& e) {
    info->type = demangle(typeid(e).name());
    info->message = e.what();
    info->code = e.code();
  } catch (const std::exception& e) {
    info->type = demangle(typeid(e).name());
    info->message = e.what();
  } catch (...) {
    const std::type_info* t = abi::__cxa_current_exception_type();
    info->type = t ? demangle(t->name()) : "unknown";
    info->message = "(an exception not derived from std::exception)";
  }
  info_ = std::move(info);
}

std::string Failure::toString() const {
  return info_->type + ": " + info_->message;
}

namespace detail {

const Failure& connectionDoneFailure() {
  static const Failure done{ConnectionDone()};
  return done;
}

const Failure& connectionAbortedFailure() {
  static const Failure aborted{ConnectionAborted()};
  return aborted;
}

}  // namespace detail
}  // namespace spindle
