// The command line the guide's poetry clients share: `[--timeout SECONDS] [HOST:]PORT ...`.
// Kept apart so each chapter's program shows only what the chapter is about.
#pragma once

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spindle/address.hpp>

namespace guide {

struct Args {
  std::vector<spindle::HostPort> servers;
  std::optional<double> timeout;  // only for programs that take --timeout
};

[[noreturn]] inline void usage(const char* program, bool takesTimeout, std::string_view error) {
  std::cerr << program << ": " << error << "\nusage: " << program
            << (takesTimeout ? " [--timeout SECONDS]" : "") << " [HOST:]PORT ...\n";
  std::exit(2);
}

/// `PORT` (on 127.0.0.1), `HOST:PORT` or `[IPV6]:PORT`; nullopt when it is none of these.
inline std::optional<spindle::HostPort> parseAddress(std::string_view text) {
  std::string_view host = "127.0.0.1", port = text;
  if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    } else if (host.empty() || host.find(':') != std::string_view::npos) {
      return std::nullopt;  // an IPv6 literal must be bracketed: its colons are ambiguous
    }
  }
  unsigned value = 0;
  auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || error != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return std::nullopt;
  }
  return spindle::HostPort{std::string(host), static_cast<uint16_t>(value)};
}

/// Parses the command line, or prints the usage and exits 2.
inline Args parseArgs(int argc, char** argv, bool takesTimeout = false) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (takesTimeout && arg == "--timeout" && i + 1 < argc) {
      char* end = nullptr;
      args.timeout = std::strtod(argv[++i], &end);
      if (*end != '\0' || !(*args.timeout > 0)) usage(argv[0], takesTimeout, "bad --timeout");
    } else if (auto server = parseAddress(arg)) {
      args.servers.push_back(*server);
    } else {
      usage(argv[0], takesTimeout, "bad address: " + std::string(arg));
    }
  }
  if (args.servers.empty()) usage(argv[0], takesTimeout, "no address given");
  return args;
}

}  // namespace guide
