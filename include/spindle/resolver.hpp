// Name resolution for connectTCP: the Resolver interface and the default, thread-backed one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "spindle/address.hpp"

namespace spindle {

class Reactor;

/// The outcome of one lookup: addresses in the order to try them, or an error message.
struct ResolveResult {
  std::vector<Address> addresses;
  std::string error;  ///< Set when the lookup failed (addresses is then empty).
};

/// Turns a host name into addresses without blocking the reactor.
/// The reactor holds one (Reactor::installResolver); tests install their own.
class Resolver {
 public:
  using Callback = std::function<void(ResolveResult)>;
  virtual ~Resolver() = default;
  /// Looks up `host` and calls `done` once, on the reactor's thread, possibly before returning.
  virtual void resolveHostName(const std::string& host, uint16_t port, Callback done) = 0;
};

/// Resolves with getaddrinfo on a small pool of worker threads, and delivers results back to the
/// reactor with callFromThread. Destroying it waits for lookups under way to finish.
class ThreadedResolver : public Resolver {
 public:
  explicit ThreadedResolver(Reactor& reactor, int maxThreads = 4);
  ~ThreadedResolver() override;
  void resolveHostName(const std::string& host, uint16_t port, Callback done) override;

 private:
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

}  // namespace spindle
