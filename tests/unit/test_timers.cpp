// Timed calls on testing::Clock: order, cancel/reset/delay and their errors, passes.
// The Clock runs the same timer code as the reactor, so these rules hold there too.
#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "spindle/failure.hpp"
#include "spindle/testing.hpp"

namespace spindle {
namespace {

using testing::Clock;

class Timers : public ::testing::Test {
 protected:
  std::function<void()> record(std::string name) {
    return [this, name] { order.push_back(name); };
  }
  Clock clock;
  std::vector<std::string> order;
};

TEST_F(Timers, RunInDeadlineOrder) {
  clock.callLater(3, record("c"));
  clock.callLater(1, record("a"));
  clock.callLater(2, record("b"));
  clock.advance(5);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(Timers, EqualDeadlinesRunInSchedulingOrder) {
  clock.callLater(2, record("a2"));
  clock.callLater(1, record("b1"));
  clock.callLater(2, record("c2"));
  clock.callLater(1, record("d1"));
  clock.callLater(1, record("e1"));
  clock.advance(2);
  EXPECT_EQ(order, (std::vector<std::string>{"b1", "d1", "e1", "a2", "c2"}));
}

TEST_F(Timers, ManyTimersRunInStableDeadlineOrder) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> dist(0, 50);
  std::vector<std::pair<int, int>> expected;  // (deadline, scheduling index)
  std::vector<std::pair<int, int>> ran;
  for (int i = 0; i < 2000; ++i) {
    int d = dist(rng);
    expected.emplace_back(d, i);
    clock.callLater(d / 10.0, [&ran, d, i] { ran.emplace_back(d, i); });
  }
  std::stable_sort(expected.begin(), expected.end(),
                   [](auto& x, auto& y) { return x.first < y.first; });
  clock.advance(10);
  EXPECT_EQ(ran, expected);
}

TEST_F(Timers, OnlyDueCallsRun) {
  clock.callLater(1, record("a"));
  clock.callLater(2, record("b"));
  clock.advance(0.5);
  EXPECT_TRUE(order.empty());
  clock.advance(0.5);
  EXPECT_EQ(order, (std::vector<std::string>{"a"}));
  clock.advance(0.999);
  EXPECT_EQ(order.size(), 1u);
  clock.advance(0.001);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b"}));
}

TEST_F(Timers, ZeroAndNegativeDelaysRunAtTheNextAdvance) {
  clock.callLater(0, record("zero"));
  clock.callLater(-5, record("negative"));
  EXPECT_TRUE(order.empty()) << "callLater never runs the call inside callLater";
  clock.advance(0);
  EXPECT_EQ(order, (std::vector<std::string>{"zero", "negative"}));
}

TEST_F(Timers, SecondsFollowAdvanceAndPump) {
  double start = clock.seconds();
  clock.advance(2.5);
  EXPECT_DOUBLE_EQ(clock.seconds(), start + 2.5);
  clock.callLater(1, record("1"));
  clock.callLater(2, record("2"));
  clock.callLater(3, record("3"));
  clock.pump({1, 1});
  EXPECT_EQ(order, (std::vector<std::string>{"1", "2"}));
  EXPECT_DOUBLE_EQ(clock.seconds(), start + 4.5);
  clock.pump({1});
  EXPECT_EQ(order.size(), 3u);
}

TEST_F(Timers, ChronoDelay) {
  auto dc = clock.callLater(std::chrono::milliseconds(1500), record("x"));
  EXPECT_DOUBLE_EQ(dc.getTime(), clock.seconds() + 1.5);
  clock.advance(1.4);
  EXPECT_TRUE(order.empty());
  clock.advance(0.1);
  EXPECT_EQ(order.size(), 1u);
}

TEST_F(Timers, StatesOfAHandle) {
  auto dc = clock.callLater(1, record("a"));
  EXPECT_TRUE(dc.active());
  EXPECT_TRUE(static_cast<bool>(dc));
  EXPECT_FALSE(dc.called());
  EXPECT_FALSE(dc.cancelled());
  clock.advance(1);
  EXPECT_FALSE(dc.active());
  EXPECT_FALSE(static_cast<bool>(dc));
  EXPECT_TRUE(dc.called());
  EXPECT_FALSE(dc.cancelled());
}

TEST_F(Timers, CancelledCallNeverRuns) {
  auto dc = clock.callLater(1, record("a"));
  dc.cancel();
  EXPECT_FALSE(dc.active());
  EXPECT_TRUE(dc.cancelled());
  EXPECT_FALSE(dc.called());
  clock.advance(10);
  EXPECT_TRUE(order.empty());
}

TEST_F(Timers, CopiesShareTheCall) {
  auto dc = clock.callLater(1, record("a"));
  DelayedCall copy = dc;
  copy.cancel();
  EXPECT_TRUE(dc.cancelled());
  clock.advance(1);
  EXPECT_TRUE(order.empty());
}

TEST_F(Timers, DroppingEveryHandleDoesNotCancel) {
  { auto dc = clock.callLater(1, record("a")); }
  clock.callLater(1, record("b"));
  clock.advance(1);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b"}));
}

TEST_F(Timers, ErrorsAfterCancel) {
  auto dc = clock.callLater(1, record("a"));
  dc.cancel();
  EXPECT_THROW(dc.cancel(), AlreadyCancelled);
  EXPECT_THROW(dc.reset(1), AlreadyCancelled);
  EXPECT_THROW(dc.delay(1), AlreadyCancelled);
}

TEST_F(Timers, ErrorsAfterCall) {
  auto dc = clock.callLater(1, record("a"));
  clock.advance(1);
  EXPECT_THROW(dc.cancel(), AlreadyCalled);
  EXPECT_THROW(dc.reset(1), AlreadyCalled);
  EXPECT_THROW(dc.delay(1), AlreadyCalled);
  EXPECT_EQ(order.size(), 1u);
}

TEST_F(Timers, EmptyHandle) {
  DelayedCall dc;
  EXPECT_FALSE(dc.active());
  EXPECT_FALSE(static_cast<bool>(dc));
  EXPECT_THROW(dc.cancel(), AlreadyCancelled);
}

TEST_F(Timers, GetTime) {
  clock.advance(2);
  auto dc = clock.callLater(3, record("a"));
  EXPECT_DOUBLE_EQ(dc.getTime(), 5);
  dc.reset(10);
  EXPECT_DOUBLE_EQ(dc.getTime(), 12);
  dc.delay(2);
  EXPECT_DOUBLE_EQ(dc.getTime(), 14);
  dc.delay(-4);
  EXPECT_DOUBLE_EQ(dc.getTime(), 10);
  clock.advance(7.9);
  EXPECT_TRUE(order.empty());
  clock.advance(0.1);
  EXPECT_EQ(order.size(), 1u);
}

TEST_F(Timers, ResetReorders) {
  auto a = clock.callLater(1, record("a"));
  clock.callLater(2, record("b"));
  a.reset(3);
  clock.advance(5);
  EXPECT_EQ(order, (std::vector<std::string>{"b", "a"}));
}

TEST_F(Timers, ResetCountsAsScheduledAnew) {
  auto a = clock.callLater(1, record("a"));
  clock.callLater(1, record("b"));
  a.reset(1);  // same deadline as b, but now scheduled after it
  clock.advance(1);
  EXPECT_EQ(order, (std::vector<std::string>{"b", "a"}));
}

TEST_F(Timers, DelayReorders) {
  clock.callLater(1, record("a"));
  auto b = clock.callLater(2, record("b"));
  b.delay(-1.5);
  EXPECT_DOUBLE_EQ(b.getTime(), 0.5);
  clock.advance(2);
  EXPECT_EQ(order, (std::vector<std::string>{"b", "a"}));
}

TEST_F(Timers, DelayZeroCountsAsScheduledAnew) {
  auto a = clock.callLater(1, record("a"));
  clock.callLater(1, record("b"));
  a.delay(0);
  clock.advance(1);
  EXPECT_EQ(order, (std::vector<std::string>{"b", "a"}));
}

TEST_F(Timers, GetDelayedCallsSoonestFirst) {
  auto c = clock.callLater(3, record("c"));
  auto a = clock.callLater(1, record("a"));
  auto b = clock.callLater(2, record("b"));
  auto gone = clock.callLater(1.5, record("gone"));
  gone.cancel();
  auto calls = clock.getDelayedCalls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_DOUBLE_EQ(calls[0].getTime(), 1);
  EXPECT_DOUBLE_EQ(calls[1].getTime(), 2);
  EXPECT_DOUBLE_EQ(calls[2].getTime(), 3);
  for (auto& dc : calls)
    EXPECT_TRUE(dc.active());
  // The handles are the calls themselves: cancelling one through the list cancels it.
  calls[1].cancel();
  EXPECT_TRUE(b.cancelled());
  clock.advance(1);
  EXPECT_EQ(clock.getDelayedCalls().size(), 1u);
  clock.advance(5);
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  EXPECT_EQ(order, (std::vector<std::string>{"a", "c"}));
}

TEST_F(Timers, CallLaterZeroFromACallRunsInTheNextPass) {
  clock.callLater(1, [this] {
    order.push_back("a");
    clock.callLater(0, record("inner"));
  });
  clock.callLater(1, record("b"));
  clock.advance(1);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b"}));
  clock.advance(0);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "inner"}));
}

TEST_F(Timers, SelfReschedulingCallRunsOncePerPass) {
  int runs = 0;
  std::function<void()> again = [&] {
    ++runs;
    clock.callLater(0, again);
  };
  clock.callLater(0, again);
  clock.advance(0);
  EXPECT_EQ(runs, 1);
  clock.advance(0);
  EXPECT_EQ(runs, 2);
  clock.advance(10);
  EXPECT_EQ(runs, 3);
}

TEST_F(Timers, ACallCountsAsCalledWhileItRuns) {
  // As in Twisted: the call is marked called before it runs, so it cannot cancel or reset itself.
  DelayedCall self;
  bool active = true, called = false, cancelThrew = false, resetThrew = false;
  self = clock.callLater(1, [&] {
    active = self.active();
    called = self.called();
    try {
      self.cancel();
    } catch (const AlreadyCalled&) {
      cancelThrew = true;
    }
    try {
      self.reset(1);
    } catch (const AlreadyCalled&) {
      resetThrew = true;
    }
  });
  clock.advance(1);
  EXPECT_FALSE(active);
  EXPECT_TRUE(called);
  EXPECT_TRUE(cancelThrew);
  EXPECT_TRUE(resetThrew);
  clock.advance(5);
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST_F(Timers, CancelFromAnotherDueCall) {
  DelayedCall b;
  clock.callLater(1, [&] {
    order.push_back("a");
    b.cancel();
  });
  b = clock.callLater(1, record("b"));
  clock.callLater(1, record("c"));
  clock.advance(1);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "c"}));
  EXPECT_TRUE(b.cancelled());
}

TEST_F(Timers, ResetFromAnotherDueCallMovesItToALaterPass) {
  DelayedCall b;
  clock.callLater(1, [&] {
    order.push_back("a");
    b.reset(0);
  });
  b = clock.callLater(1, record("b"));
  clock.advance(1);
  EXPECT_EQ(order, (std::vector<std::string>{"a"}));
  EXPECT_TRUE(b.active());
  clock.advance(0);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b"}));
}

TEST_F(Timers, CancelAndResetOfManyKeepOrder) {
  std::vector<DelayedCall> calls;
  std::vector<int> ran;
  for (int i = 0; i < 200; ++i)
    calls.push_back(clock.callLater(1 + i * 0.01, [&ran, i] { ran.push_back(i); }));
  std::vector<int> expected;
  for (int i = 0; i < 200; ++i) {
    if (i % 3 == 0) {
      calls[i].cancel();
    } else if (i % 3 == 1) {
      calls[i].reset(100 - i * 0.1);  // reversed among themselves, after the rest
    } else {
      expected.push_back(i);
    }
  }
  for (int i = 199; i >= 0; --i)
    if (i % 3 == 1) expected.push_back(i);
  clock.advance(200);
  EXPECT_EQ(ran, expected);
}

TEST(Clock, PendingCallsAreFreedWithTheClock) {
  // Under ASan this checks that the clock frees the calls it still holds, and that a handle that
  // outlives its clock is still safe to ask.
  DelayedCall survivor;
  {
    Clock c;
    survivor = c.callLater(1, [token = std::make_shared<int>(1)] {});
    c.callLater(2, [] {});
  }
  EXPECT_FALSE(survivor.called());
}

}  // namespace
}  // namespace spindle
