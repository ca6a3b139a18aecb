// The poetry proxy's cache and protocol, as coroutines.
#include "proxy.hpp"

namespace poetry {

// --- PoetryCache -------------------------------------------------------------------------------

PoetryCache::PoetryCache(Fetch fetch) : state_(std::make_shared<State>()) {
  state_->fetch = std::move(fetch);
}

spindle::Deferred<std::string> PoetryCache::poem() {
  if (state_->poem) return spindle::succeed(std::string(*state_->poem));
  spindle::Deferred<std::string> waiter;
  state_->waiting.push_back(waiter);
  if (!state_->fetching) fetchOnce(state_);  // runs until its first co_await
  return waiter;
}

// The one fetch under way: its outcome goes to every client waiting for it. `state` is a
// parameter, so the frame keeps it alive whatever happens to the cache.
spindle::Task<void> PoetryCache::fetchOnce(std::shared_ptr<State> state) {
  state->fetching = true;
  ++state->fetches;
  std::optional<spindle::Failure> failed;
  try {
    state->poem = co_await state->fetch();
  } catch (...) {
    failed.emplace(std::current_exception());
  }
  state->fetching = false;
  // Taken out first: a waiter's callbacks may ask for the poem again (and start a new fetch).
  auto waiting = std::move(state->waiting);
  state->waiting.clear();
  for (auto& waiter : waiting) {
    if (waiter.called()) continue;  // cancelled: its client left
    if (failed) {
      waiter.errback(*failed);
    } else {
      waiter.callback(*state->poem);
    }
  }
}

// --- ProxyProtocol / ProxyFactory --------------------------------------------------------------

void ProxyProtocol::connectionMade() {
  if (auto& hook = factory().onConnection) hook(transport->getPeer());
  serving_ = serve();
}

void ProxyProtocol::connectionLost(const spindle::Failure&) {
  // Still waiting: the CancelledError ends serve() here, while this protocol is alive.
  if (serving_) serving_->cancel();
}

spindle::Task<void> ProxyProtocol::serve() {
  std::optional<spindle::Failure> failed;
  try {
    std::string poem = co_await factory().cache().poem();
    transport->write(poem);
    transport->loseConnection();
    co_return;
  } catch (const spindle::CancelledError&) {
    co_return;  // the client left first (connectionLost): nothing left to close
  } catch (...) {
    failed.emplace(std::current_exception());
  }
  if (auto& report = factory().onFailure) report(transport->getPeer(), *failed);
  transport->loseConnection();
}

std::unique_ptr<spindle::Protocol> ProxyFactory::buildProtocol(const spindle::Address&) {
  return makeProtocol<ProxyProtocol>();
}

}  // namespace poetry
