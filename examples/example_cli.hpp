// Command-line plumbing shared by the examples, so each program reads like its Twisted original:
// the options every server takes, [HOST:]PORT addresses for the clients, usage errors (exit 2),
// and the flushed "... on port N." line a server prints once it listens.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <spindle/spindle.hpp>

namespace examples {

/// The exit status of a bad command line.
inline constexpr int kUsageError = 2;

/// Parses a port of 1..65535 written as decimal digits; nullopt otherwise.
inline std::optional<uint16_t> parsePort(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 ||
      value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

/// Parses a client's address: `PORT` (on 127.0.0.1), `HOST:PORT` or `[IPV6]:PORT`.
inline std::optional<spindle::HostPort> parseHostPort(std::string_view text) {
  std::string_view host = "127.0.0.1", port = text;
  if (text.starts_with('[')) {
    auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (!spindle::Address::fromIp(host, 0) || host.find(':') == std::string_view::npos) {
      return std::nullopt;
    }
  } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    // An IPv6 literal must be bracketed, or its last group would read as the port.
    if (host.empty() || host.find(':') != std::string_view::npos) return std::nullopt;
  }
  auto number = parsePort(port);
  if (!number) return std::nullopt;
  return spindle::HostPort{std::string(host), *number};
}

/// A CLI11 check that a value is a client address (see parseHostPort).
inline const CLI::Validator kHostPort(
    [](std::string& s) { return parseHostPort(s) ? std::string() : "not [HOST:]PORT: " + s; },
    "[HOST:]PORT");

/// A CLI11 check that a value is an IP literal (listenTCP takes no names).
inline const CLI::Validator kIpAddress(
    [](std::string& s) {
      return spindle::isIPAddress(s) ? std::string() : "not an IP address: " + s;
    },
    "ADDR");

/// A CLI11 check that a value is a finite number of seconds, 0 or more.
inline const CLI::Validator kSeconds(
    [](std::string& s) {
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      bool ok = !s.empty() && *end == '\0' && std::isfinite(d) && d >= 0;
      return ok ? std::string() : "not a number of seconds >= 0: " + s;
    },
    "SECONDS");

/// What every example server is told on its command line.
struct ServerOptions {
  int port = 0;
  std::string iface = "127.0.0.1";
};

inline void addServerOptions(CLI::App& app, ServerOptions& options) {
  app.add_option("--port", options.port, "TCP port to listen on (default 0: a free port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--iface", options.iface,
                 "IP address to listen on (default 127.0.0.1; :: for every interface)")
      ->check(kIpAddress);
}

/// Parses the command line. Returns the status to exit with when the program should stop now:
/// 0 after --help, kUsageError (the reason and the usage on stderr) after a bad argument.
inline std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "{}: {}\n\n{}", app.get_name(), e.what(), app.help());
    return kUsageError;
  }
  return std::nullopt;
}

/// Prints one line to stdout and flushes it, so a parent reading a pipe sees it at once.
template <class... Args>
void say(fmt::format_string<Args...> format, Args&&... args) {
  fmt::print("{}\n", fmt::format(format, std::forward<Args>(args)...));
  std::fflush(stdout);
}

/// listenTCP on the options' interface and port; prints why and returns nullptr if it cannot.
inline std::shared_ptr<spindle::ListeningPort> listen(spindle::Reactor& reactor,
                                                      const ServerOptions& options,
                                                      std::shared_ptr<spindle::Factory> factory,
                                                      std::string_view program) {
  try {
    return reactor.listenTCP(static_cast<uint16_t>(options.port), std::move(factory), 50,
                             options.iface);
  } catch (const spindle::CannotListenError& e) {
    fmt::print(stderr, "{}: {}\n", program, e.what());
    return nullptr;
  }
}

}  // namespace examples
