// The poetry proxy (the tutorial's poetry-proxy.py): serves the poem of an upstream poetry server,
// fetched once and then kept. Built on coroutines: a Task fetches, a Task serves each client.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spindle/spindle.hpp>

namespace poetry {

/// The upstream poem, fetched at most once at a time and kept once fetched (the tutorial's
/// ProxyService, which also keeps it, but fetches once per client until the first arrives).
class PoetryCache {
 public:
  /// Starts one upstream fetch (getPoetry, in the program).
  using Fetch = std::function<spindle::Deferred<std::string>()>;

  explicit PoetryCache(Fetch fetch);

  /// A new Deferred for one client: fired at once from the cache; else when the fetch under way
  /// ends, starting one if none is. When the fetch fails every waiting Deferred fails with its
  /// reason and nothing is kept: the next call fetches again. Cancelling one only stops that
  /// client waiting; the fetch goes on for the others (and the cache).
  spindle::Deferred<std::string> poem();

  /// The poem once fetched.
  const std::optional<std::string>& cached() const noexcept { return state_->poem; }
  /// True while a fetch is under way.
  bool fetching() const noexcept { return state_->fetching; }
  /// How many fetches were started.
  std::size_t fetches() const noexcept { return state_->fetches; }

 private:
  // Shared with the fetch's coroutine, which may outlive the cache.
  struct State {
    Fetch fetch;
    std::optional<std::string> poem;
    std::vector<spindle::Deferred<std::string>> waiting;
    bool fetching = false;
    std::size_t fetches = 0;
  };
  static spindle::Task<void> fetchOnce(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
};

class ProxyFactory;

/// One client: waits for the cache's poem, writes it and closes; when the fetch fails, closes
/// with nothing written and reports why (ProxyFactory::onFailure). A client that leaves first
/// cancels its wait.
class ProxyProtocol : public spindle::ProtocolFor<ProxyFactory> {
 public:
  void connectionMade() override;
  void connectionLost(const spindle::Failure& reason) override;

 private:
  spindle::Task<void> serve();
  std::optional<spindle::Deferred<void>> serving_;
};

/// Builds a ProxyProtocol per client, all served from one PoetryCache.
class ProxyFactory : public spindle::ServerFactory {
 public:
  explicit ProxyFactory(std::shared_ptr<PoetryCache> cache) : cache_(std::move(cache)) {}
  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address& addr) override;
  PoetryCache& cache() const noexcept { return *cache_; }

  /// Hears each client's address as it connects. May be empty.
  std::function<void(const spindle::Address& peer)> onConnection;
  /// Hears each client closed without a poem, and why (the upstream fetch's failure). May be
  /// empty.
  std::function<void(const spindle::Address& peer, const spindle::Failure& why)> onFailure;

 private:
  std::shared_ptr<PoetryCache> cache_;
};

}  // namespace poetry
