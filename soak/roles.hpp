// Internal to the soak test: the two processes' entry points and what they hand back.
#pragma once

#include <cstdint>
#include <string>

#include "soak.hpp"

namespace soak {

/// Everything a run is told on the command line (main.cpp parses it; the server gets the part
/// it needs on its own command line).
struct Options {
  std::uint64_t connections = 10000;
  double seconds = 30;          ///< how long both directions stream
  std::uint64_t batch = 256;    ///< connection attempts outstanding at once
  std::size_t maxFrame = 8192;  ///< Data frames carry 1..maxFrame bytes
  std::uint64_t seed = 1;       ///< fixes every stream of the run
  double connectTimeout = 120;  ///< for the whole connecting phase
  double endTimeout = 60;       ///< for the End exchange and the closes
  bool ipv6 = false;
  Fault inject = Fault::None;  ///< a fault for the server to inject: the run must then fail
  double serverDeadline = 0;   ///< server only: stop by itself after this long

  const char* host() const { return ipv6 ? "::1" : "127.0.0.1"; }
  /// Descriptors one process needs: one per connection, and a few for the rest.
  std::uint64_t descriptorsNeeded() const { return connections + 64; }
  /// The longest a client run may take, all phases with their timeouts.
  double clientBound() const { return connectTimeout + seconds + endTimeout + 30; }
};

/// The server process: listens on the loopback port 0, prints "PORT n", serves until its
/// standard input closes (or its deadline passes), then prints its figures (writeReport) and
/// returns its exit status.
int runServer(const Options& options);
/// The server's figures (and whether it injected the fault asked for), in the lines that
/// main.cpp's parseReport reads.
void writeReport(const Totals& totals, long peakRss, bool injected);

/// What the client side of a run saw.
struct ClientResult {
  Totals totals;
  std::uint64_t held = 0;  ///< connections established and open when streaming started
  double connectSeconds = 0, streamSeconds = 0, closeSeconds = 0;
  std::string failure;  ///< a phase that timed out or went wrong, if any
};

/// Runs the client side against the server at options.host():port in this process.
ClientResult runClient(const Options& options, std::uint16_t port);

}  // namespace soak
