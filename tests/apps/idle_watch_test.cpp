// IdleWatch on a fake clock: when an idle connection is noticed, and dropIdle's two ways to close.
#include <gtest/gtest.h>

#include <spindle/testing.hpp>

#include "idle_watch.hpp"

namespace {

using poetry::IdleWatch;

class IdleWatchTest : public ::testing::Test {
 protected:
  spindle::testing::Clock clock;
  bool moving = false;  // what the next look is told
  int looks = 0;
  std::vector<double> idleAt;
  IdleWatch watch{clock,
                  [this] {
                    ++looks;
                    return moving;
                  },
                  [this] { idleAt.push_back(clock.seconds()); }};
};

TEST_F(IdleWatchTest, AConnectionThatNeverMovesIsIdleAfterExactlyOneTimeout) {
  watch.start(1.0);
  EXPECT_TRUE(watch.watching());
  clock.pump({0.25, 0.25, 0.25});
  EXPECT_TRUE(idleAt.empty()) << "three quiet looks are less than a timeout";
  clock.advance(0.25);
  EXPECT_EQ(idleAt, std::vector<double>{1.0});
  EXPECT_EQ(looks, IdleWatch::kChecksPerTimeout) << "one look per quarter of the timeout";
  EXPECT_FALSE(watch.watching());
  clock.advance(10);
  EXPECT_EQ(idleAt.size(), 1u) << "onIdle runs once";
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST_F(IdleWatchTest, MovementSeenAtALookStartsTheCountdownOver) {
  watch.start(1.0);
  moving = true;
  clock.pump({0.25, 0.25, 0.25});  // t = 0.75: moved at every look
  moving = false;
  clock.pump({0.25, 0.25, 0.25});  // t = 1.5: three quiet looks since the last movement
  EXPECT_TRUE(idleAt.empty());
  clock.advance(0.25);
  EXPECT_EQ(idleAt, std::vector<double>{1.75});
}

TEST_F(IdleWatchTest, ASteadyTrickleIsNeverIdle) {
  watch.start(0.5);
  moving = true;
  for (int i = 0; i < 400; ++i)
    clock.advance(0.125);  // 50 seconds, a hundred timeouts
  EXPECT_TRUE(idleAt.empty());
  EXPECT_TRUE(watch.watching());
}

TEST_F(IdleWatchTest, TouchRestartsTheWholeTimeoutFromThatMoment) {
  watch.start(1.0);
  clock.pump({0.25, 0.25, 0.25, 0.15});  // t = 0.9: three quiet looks behind us
  watch.touch();                         // e.g. a producer resumed
  clock.pump({0.25, 0.25, 0.25});        // t = 1.65
  EXPECT_TRUE(idleAt.empty()) << "idle before a whole timeout had passed since the touch";
  clock.advance(0.25);
  ASSERT_EQ(idleAt.size(), 1u);
  EXPECT_NEAR(idleAt[0], 1.9, 1e-9);
}

TEST_F(IdleWatchTest, TouchBeforeStartOrAfterIdleDoesNothing) {
  watch.touch();
  EXPECT_FALSE(watch.watching());
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  watch.start(0.4);
  clock.pump({0.1, 0.1, 0.1, 0.1});
  ASSERT_EQ(idleAt.size(), 1u);
  watch.touch();
  EXPECT_FALSE(watch.watching());
}

TEST_F(IdleWatchTest, StopAndDestructionLeaveNothingScheduled) {
  watch.start(1.0);
  watch.stop();
  watch.stop();  // idempotent
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  {
    IdleWatch other(
        clock, [] { return false; }, [] { FAIL() << "idle after destruction"; });
    other.start(1.0);
    EXPECT_EQ(clock.getDelayedCalls().size(), 1u);
  }
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  clock.advance(5);
}

TEST_F(IdleWatchTest, StartAgainWatchesAgain) {
  watch.start(1.0);
  clock.pump({0.25, 0.25, 0.25, 0.25});
  ASSERT_EQ(idleAt.size(), 1u);
  watch.start(2.0);
  clock.pump({0.5, 0.5, 0.5});
  EXPECT_EQ(idleAt.size(), 1u);
  clock.advance(0.5);
  EXPECT_EQ(idleAt.size(), 2u);
  EXPECT_EQ(watch.timeout(), 2.0);
}

// A transport with bytes stuck in its buffer.
struct StuckTransport : spindle::testing::StringTransport {
  std::size_t buffered = 0;
  std::size_t bufferedSize() const override { return buffered; }
};

TEST(DropIdle, WithNothingBufferedClosesCleanlyWithIdleTimeoutError) {
  StuckTransport t;
  spindle::Failure why = poetry::dropIdle(t, 2.5);
  EXPECT_TRUE(why.check<spindle::IdleTimeoutError>());
  EXPECT_EQ(why.getErrorMessage(), "Connection was idle for 2.5 seconds");
  EXPECT_FALSE(t.aborted());
  ASSERT_TRUE(t.closeReason().has_value());
  EXPECT_TRUE(t.closeReason()->check<spindle::IdleTimeoutError>());
}

TEST(DropIdle, WithBytesBufferedAbortsForAPeerThatTakesNone) {
  StuckTransport t;
  t.buffered = 1000;
  spindle::Failure why = poetry::dropIdle(t, 1);
  EXPECT_TRUE(why.check<spindle::IdleTimeoutError>());
  EXPECT_TRUE(t.aborted()) << "a clean close would wait for the buffer to drain, forever";
}

}  // namespace
