// Random sequences of chain operations (callbacks returning other Deferreds, fires, cancels,
// dropped handles, lists), for the sanitizer build to check that nothing dangles or leaks.
#include <optional>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "spindle/coroutine.hpp"
#include "spindle/defer_list.hpp"
#include "test_deferred_helpers.hpp"

namespace spindle {
namespace {

class RandomChains {
 public:
  explicit RandomChains(unsigned seed) : rng_(seed), ds_(kCount) {
    for (auto& d : ds_)
      d.emplace();
  }

  void step() {
    std::size_t i = pick(kCount);
    if (!ds_[i]) return;
    Deferred<int>& d = *ds_[i];
    try {
      switch (pick(8)) {
        case 0:
          addCallback(d, i);
          break;
        case 1:
          addErrback(d);
          break;
        case 2:
          fire(d);
          break;
        case 3:
          d.cancel();
          break;
        case 4:
          ds_[i].reset();
          break;
        case 5:
          list(i);
          break;
        case 6:
          d.addBoth([](Result<int> r) { return r; });
          break;
        default:
          addCallback(d, i);
          break;
      }
    } catch (const std::logic_error&) {
      // A handle whose chain was given away (to a list or a waiting chain): refused, as documented.
    } catch (const AlreadyCalled&) {
    }
  }

  void finish() {
    for (auto& d : ds_) {
      if (d && !d->called()) d->errback(ConnectionLost());
    }
    ds_.clear();
  }

 private:
  static constexpr std::size_t kCount = 40;

  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }

  void addCallback(Deferred<int>& d, std::size_t i) {
    std::size_t j = i + 1 + pick(kCount);
    if (j < kCount && ds_[j] && pick(2) == 0) {
      d.addCallback([other = *ds_[j]](int) { return other; });  // waits on a later one: no cycle
    } else if (pick(3) == 0) {
      d.addCallback([](int) -> int { throw std::runtime_error("random"); });
    } else {
      d.addCallback([](int v) { return succeed(v + 1); });
    }
  }

  void addErrback(Deferred<int>& d) {
    if (pick(2) == 0) {
      d.addErrback([](const Failure&) { return 0; });
    } else {
      d.addErrback([](const Failure& f) { return f; });
    }
  }

  void fire(Deferred<int>& d) {
    if (pick(2) == 0) {
      d.callback(1);
    } else {
      d.errback(ConnectionDone());
    }
  }

  static Task<int> awaitBoth(Deferred<int> a, Deferred<int> b) {
    int first = co_await std::move(a);
    try {
      co_return first + co_await std::move(b);
    } catch (const CancelledError&) {
      co_return -1;
    }
  }

  // Slot i becomes a Task awaiting two later Deferreds.
  void startTask(std::size_t i) {
    std::size_t j = i + 1 + pick(kCount), k = i + 1 + pick(kCount);
    if (j >= kCount || k >= kCount || !ds_[j] || !ds_[k]) return;
    ds_[i] = ensureDeferred(awaitBoth(*ds_[j], *ds_[k]));
  }

  void list(std::size_t i) {
    std::vector<Deferred<int>> inputs;
    for (std::size_t j = i; j < kCount && inputs.size() < 3; j += 1 + pick(5)) {
      if (ds_[j]) inputs.push_back(*ds_[j]);
    }
    auto all = gatherResults(inputs, pick(2) == 0);
    if (pick(2) == 0) all.cancel();
  }

  std::mt19937 rng_;
  std::vector<std::optional<Deferred<int>>> ds_;
};

TEST(DeferredRandom, NothingDanglesOrLeaks) {
  testing::ErrorLog log;  // many chains end with errors nobody handles: keep them off stderr
  for (unsigned seed = 1; seed <= 40; ++seed) {
    RandomChains chains(seed);
    for (int n = 0; n < 400; ++n)
      chains.step();
    chains.finish();
  }
  EXPECT_GT(log.unhandled(), 0u);
}

}  // namespace
}  // namespace spindle
