// Address parsing, character counting and report lines of the poetry programs.
#include "poetry.hpp"

#include <cmath>

#include <fmt/format.h>

namespace poetry {

namespace {

bool isDigit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// A host name or IPv4 literal as typed: non-empty, printable, no spaces, brackets or colons.
void checkHost(std::string_view host, std::string_view text) {
  if (host.empty()) throw AddressError(fmt::format("missing host before ':' in '{}'", text));
  for (unsigned char c : host) {
    if (c <= ' ' || c == 0x7f || c == '[' || c == ']' || c == ':' || c == '/') {
      throw AddressError(fmt::format("invalid host '{}' in '{}'", host, text));
    }
  }
}

uint16_t checkPort(std::string_view port, std::string_view text) {
  if (port.empty()) throw AddressError(fmt::format("missing port in '{}'", text));
  if (auto p = parsePort(port)) return *p;
  throw AddressError(fmt::format("port '{}' in '{}' is not a number from 1 to 65535", port, text));
}

}  // namespace

std::optional<uint16_t> parsePort(std::string_view text) {
  if (text.empty()) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (!isDigit(c)) return std::nullopt;
    value = value * 10 + unsigned(c - '0');
    if (value > 65535) return std::nullopt;  // also stops overflow on long digit strings
  }
  if (value == 0) return std::nullopt;
  return static_cast<uint16_t>(value);
}

spindle::HostPort parseAddress(std::string_view text) {
  if (text.empty()) throw AddressError("empty address");
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      throw AddressError(fmt::format("missing ']' in '{}'", text));
    }
    std::string_view host = text.substr(1, close - 1);
    if (host.find(':') == std::string_view::npos || !spindle::isIPAddress(host)) {
      throw AddressError(fmt::format("'{}' in '{}' is not an IPv6 address", host, text));
    }
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      throw AddressError(fmt::format("expected ':PORT' after ']' in '{}'", text));
    }
    return {std::string(host), checkPort(rest.substr(1), text)};
  }
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return {std::string(kDefaultHost), checkPort(text, text)};
  }
  if (text.find(':', colon + 1) != std::string_view::npos) {
    throw AddressError(
        fmt::format("too many ':' in '{}' (write IPv6 addresses as [ADDRESS]:PORT)", text));
  }
  std::string_view host = text.substr(0, colon);
  checkHost(host, text);
  return {std::string(host), checkPort(text.substr(colon + 1), text)};
}

std::size_t countCodePoints(std::string_view bytes) noexcept {
  std::size_t n = 0;
  for (unsigned char c : bytes)
    n += (c & 0xC0) != 0x80;
  return n;
}

std::string formatElapsed(std::chrono::duration<double> elapsed) {
  double seconds = elapsed.count();
  if (!(seconds > 0)) seconds = 0;  // also maps NaN to 0
  auto us = static_cast<long long>(std::llround(seconds * 1e6));
  long long hours = us / 3'600'000'000LL;
  us %= 3'600'000'000LL;
  long long minutes = us / 60'000'000LL;
  us %= 60'000'000LL;
  return fmt::format("{}:{:02}:{:02}.{:06}", hours, minutes, us / 1'000'000, us % 1'000'000);
}

std::string describe(int task, const spindle::HostPort& address,
                     const spindle::Result<std::string>& result, std::optional<double> timeout) {
  if (result.succeeded()) {
    return fmt::format("Task {}: {} characters of poetry", task, countCodePoints(result.value()));
  }
  const spindle::Failure& why = result.failure();
  if (why.check<spindle::ConnectError>()) {
    return fmt::format("Failed to connect to: {} ({})", address, why.getErrorMessage());
  }
  if (why.check<spindle::DeferredTimeoutError>()) {
    double seconds = timeout.value_or(0);
    try {
      if (!timeout) why.raiseException();
    } catch (const spindle::DeferredTimeoutError& e) {
      seconds = e.timeout();
    }
    return fmt::format("Task {}: timed out after {} seconds", task, seconds);
  }
  return fmt::format("Task {}: connection lost ({})", task, why.getErrorMessage());
}

}  // namespace poetry
