// LoopingCall on the fake clock: cadence, skipping on overrun, stop/restart, errors.
#include <gtest/gtest.h>
#include <spindle/failure.hpp>
#include <spindle/log.hpp>
#include <spindle/task.hpp>
#include <spindle/testing.hpp>

using spindle::LoopingCall;
using spindle::testing::Clock;

TEST(LoopingCall, CallsNowThenEveryInterval) {
  Clock clock;
  std::vector<double> times;
  LoopingCall lc(clock, [&] { times.push_back(clock.seconds()); });
  lc.start(1.0);
  clock.advance(0);
  clock.pump({1, 1, 1});
  EXPECT_EQ(times, (std::vector<double>{0, 1, 2, 3}));
  EXPECT_EQ(lc.callCount(), 4);
  EXPECT_EQ(lc.skippedCount(), 0);
}

TEST(LoopingCall, NowFalseWaitsOneInterval) {
  Clock clock;
  int calls = 0;
  LoopingCall lc(clock, [&] { ++calls; });
  lc.start(2.0, false);
  clock.advance(0);
  clock.advance(1.9);
  EXPECT_EQ(calls, 0);
  clock.advance(0.1);
  EXPECT_EQ(calls, 1);
}

TEST(LoopingCall, OverrunSkipsIntervalsAndCountsThem) {
  Clock clock;
  std::vector<std::int64_t> counts;
  auto lc = LoopingCall::withCount(clock, [&](std::int64_t n) { counts.push_back(n); });
  lc.start(1.0);
  clock.advance(0);    // call at 0
  clock.advance(3.5);  // late: intervals 1, 2, 3 passed; one call, count 3
  clock.advance(0.5);  // at 4.0: the next boundary
  EXPECT_EQ(counts, (std::vector<std::int64_t>{1, 3, 1}));
  EXPECT_EQ(lc.skippedCount(), 2);
  EXPECT_EQ(lc.callCount(), 3);
}

TEST(LoopingCall, DoesNotDriftWhenCallsAreLate) {
  Clock clock;
  std::vector<double> times;
  LoopingCall lc(clock, [&] { times.push_back(clock.seconds()); });
  lc.start(1.0, false);
  clock.advance(1.25);  // late by .25: next still due at 2.0, not 2.25
  clock.advance(0.75);
  EXPECT_EQ(times, (std::vector<double>{1.25, 2.0}));
}

TEST(LoopingCall, StopCancelsAndRestartWorks) {
  Clock clock;
  int calls = 0;
  LoopingCall lc(clock, [&] { ++calls; });
  lc.start(1.0);
  clock.advance(0);
  lc.stop();
  EXPECT_FALSE(lc.running());
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  clock.advance(5);
  EXPECT_EQ(calls, 1);
  EXPECT_THROW(lc.stop(), spindle::Error);
  lc.start(1.0);
  EXPECT_THROW(lc.start(1.0), spindle::Error);
  clock.advance(0);
  EXPECT_EQ(calls, 2);
}

TEST(LoopingCall, StopFromInsideTheCall) {
  Clock clock;
  int calls = 0;
  LoopingCall* self = nullptr;
  LoopingCall lc(clock, [&] {
    if (++calls == 2) self->stop();
  });
  self = &lc;
  lc.start(1.0);
  clock.pump({0, 1, 1, 1});
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(LoopingCall, ExceptionStopsTheLoopAndIsLogged) {
  Clock clock;
  std::vector<std::string> logged;
  auto old = spindle::log::setSink(
      [&](spindle::log::Level, std::string_view m) { logged.emplace_back(m); });
  LoopingCall lc(clock, [] { throw std::runtime_error("boom"); });
  lc.start(1.0);
  clock.advance(0);
  spindle::log::setSink(old);
  EXPECT_FALSE(lc.running());
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_NE(logged[0].find("boom"), std::string::npos);
}

TEST(LoopingCall, DestructionCancelsThePendingCall) {
  Clock clock;
  int calls = 0;
  {
    LoopingCall lc(clock, [&] { ++calls; });
    lc.start(1.0, false);
  }
  clock.advance(2);
  EXPECT_EQ(calls, 0);
}

TEST(LoopingCall, NegativeIntervalIsAnError) {
  Clock clock;
  LoopingCall lc(clock, [] {});
  EXPECT_THROW(lc.start(-1), spindle::Error);
}
