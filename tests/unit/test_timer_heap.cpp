// The timer heap against a reference model: random schedules, cancels, resets and delays.
#include <gtest/gtest.h>
#include <spindle/testing.hpp>

#include <algorithm>
#include <map>
#include <random>

using spindle::DelayedCall;
using spindle::testing::Clock;

TEST(TimerHeap, RandomOperationsRunInDeadlineThenSchedulingOrder) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    Clock clock;
    std::vector<DelayedCall> calls;
    std::vector<int> ran;
    // Reference: id -> (time, order of its latest scheduling); alive while in the map.
    std::map<int, std::pair<double, int>> model;
    int order = 0;
    const int n = 2000;
    for (int id = 0; id < n; ++id) {
      double delay = static_cast<double>(rng() % 50);  // many equal deadlines
      calls.push_back(clock.callLater(delay, [&ran, id] { ran.push_back(id); }));
      model[id] = {delay, order++};
    }
    for (int k = 0; k < n; ++k) {
      int id = static_cast<int>(rng() % n);
      if (!calls[id].active()) continue;
      switch (rng() % 3) {
        case 0:
          calls[id].cancel();
          model.erase(id);
          break;
        case 1: {
          double d = static_cast<double>(rng() % 50);
          calls[id].reset(d);
          model[id] = {d, order++};
          break;
        }
        case 2: {
          double d = static_cast<double>(rng() % 10) - 5;
          calls[id].delay(d);
          model[id] = {model[id].first + d, order++};
          break;
        }
      }
      ASSERT_EQ(calls[id].active(), model.count(id) == 1);
      if (calls[id].active()) {
        ASSERT_DOUBLE_EQ(calls[id].getTime(), model[id].first);
      }
    }
    std::vector<std::pair<std::pair<double, int>, int>> expected;
    for (auto& [id, key] : model)
      expected.push_back({key, id});
    std::sort(expected.begin(), expected.end());
    clock.advance(100);
    ASSERT_EQ(ran.size(), expected.size()) << "seed " << seed;
    for (std::size_t i = 0; i < ran.size(); ++i) {
      ASSERT_EQ(ran[i], expected[i].second) << "seed " << seed << " position " << i;
    }
    EXPECT_TRUE(clock.getDelayedCalls().empty());
  }
}

TEST(TimerHeap, GetDelayedCallsIsSortedAndCompleteAfterCancels) {
  Clock clock;
  std::vector<DelayedCall> calls;
  for (int i = 0; i < 100; ++i)
    calls.push_back(clock.callLater((i * 37) % 100, [] {}));
  for (int i = 0; i < 100; i += 3)
    calls[i].cancel();
  auto pending = clock.getDelayedCalls();
  EXPECT_EQ(pending.size(), 66u);
  for (std::size_t i = 1; i < pending.size(); ++i) {
    EXPECT_LE(pending[i - 1].getTime(), pending[i].getTime());
  }
}
