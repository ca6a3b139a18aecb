// Cancelling Deferreds, and the helpers that cancel them in time: addTimeout and deferLater,
// driven by the fake clock.
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "spindle/defer.hpp"
#include "spindle/testing.hpp"
#include "test_deferred_helpers.hpp"

namespace spindle {
namespace {

using testing::Clock;
using testing::ErrorLog;
using testing::failureResultOf;
using testing::hasResult;
using testing::successResultOf;

TEST(DeferredCancel, WithoutACancellerErrbacksCancelledError) {
  Deferred<int> d;
  d.cancel();
  EXPECT_TRUE(d.called());
  EXPECT_TRUE(failureResultOf(d).check<CancelledError>());
}

TEST(DeferredCancel, CallsTheCancellerThenErrbacks) {
  int calls = 0;
  Deferred<int> d([&](Deferred<int>& self) {
    ++calls;
    EXPECT_FALSE(self.called());
  });
  d.cancel();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(failureResultOf(d).check<CancelledError>());

  int plain = 0;
  Deferred<> e([&] { ++plain; });
  e.cancel();
  EXPECT_EQ(plain, 1);
  EXPECT_TRUE(failureResultOf(e).check<CancelledError>());
}

TEST(DeferredCancel, ACancellerMayFireTheDeferredItself) {
  Deferred<std::string> d([](Deferred<std::string>& self) { self.callback("a shorter poem"); });
  d.cancel();
  EXPECT_EQ(successResultOf(d), "a shorter poem");
  Deferred<int> e([](Deferred<int>& self) { self.errback(ConnectionAborted()); });
  e.cancel();
  EXPECT_TRUE(failureResultOf(e).check<ConnectionAborted>());
}

TEST(DeferredCancel, AThrowingCancellersErrorBecomesTheResult) {
  Deferred<int> d([] { throw std::runtime_error("cannot stop"); });
  d.cancel();
  Failure f = failureResultOf(d);
  EXPECT_TRUE(f.check<std::runtime_error>());
  EXPECT_NO_THROW(d.callback(1)) << "the producer's late callback is still ignored";
}

TEST(DeferredCancel, TheProducersNextCallbackIsIgnoredOnce) {
  Deferred<int> d;
  d.cancel();
  EXPECT_NO_THROW(d.callback(5));
  EXPECT_THROW(d.callback(6), AlreadyCalled) << "only one call is forgiven";
  EXPECT_TRUE(failureResultOf(d).check<CancelledError>());
}

TEST(DeferredCancel, CancellingAFiredDeferredDoesNothing) {
  int calls = 0;
  Deferred<int> d([&] { ++calls; });
  d.callback(1);
  d.cancel();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(successResultOf(d), 1);
  EXPECT_THROW(d.callback(2), AlreadyCalled) << "no forgiveness: cancel() did nothing";
}

TEST(DeferredCancel, CancellingAWaitingChainCancelsWhatItWaitsOn) {
  int innerCancels = 0;
  Deferred<std::string> inner([&] { ++innerCancels; });
  Deferred<int> outer;
  auto r = outer.addCallback([&](int) { return inner; });
  outer.callback(0);
  EXPECT_FALSE(hasResult(r));
  r.cancel();
  EXPECT_EQ(innerCancels, 1);
  EXPECT_TRUE(failureResultOf(r).check<CancelledError>());
  EXPECT_NO_THROW(inner.callback("late")) << "the inner producer's late call is forgiven";
}

TEST(DeferredCancel, CancellationReachesTheInnermostOfANestedChain) {
  int cancels = 0;
  Deferred<int> a, b, c([&] { ++cancels; });
  a.addCallback([&](int) { return b; });
  b.addCallback([&](int) { return c; });
  a.callback(0);
  b.callback(0);
  a.cancel();
  EXPECT_EQ(cancels, 1);
  EXPECT_TRUE(failureResultOf(a).check<CancelledError>());
}

TEST(DeferredCancel, TheFailureRecordsWhereCancelWasCalled) {
  Deferred<int> d;
  d.cancel();
  const unsigned line = __LINE__ - 1;
  EXPECT_EQ(failureResultOf(d).where().line(), line);
}

TEST(DeferredTimeout, TimesOutWithDeferredTimeoutError) {
  Clock clock;
  int cancels = 0;
  Deferred<std::string> d([&] { ++cancels; });
  d.addTimeout(2.5, clock);
  clock.advance(2.4);
  EXPECT_FALSE(d.called());
  clock.advance(0.1);
  EXPECT_EQ(cancels, 1);
  Failure f = failureResultOf(d);
  ASSERT_TRUE(f.check<DeferredTimeoutError>()) << f.toString();
  EXPECT_FALSE(f.check<CancelledError>());
  try {
    f.raiseException();
  } catch (const DeferredTimeoutError& e) {
    EXPECT_EQ(e.timeout(), 2.5);
  }
  EXPECT_EQ(f.getErrorMessage(), "Deferred timed out after 2.5 seconds");
}

TEST(DeferredTimeout, FiringFirstCancelsTheTimer) {
  Clock clock;
  Deferred<int> d;
  d.addTimeout(5, clock);
  EXPECT_EQ(clock.getDelayedCalls().size(), 1u);
  d.callback(3);
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  clock.advance(10);
  EXPECT_EQ(successResultOf(d), 3);
}

TEST(DeferredTimeout, OtherFailuresPassUnchanged) {
  Clock clock;
  Deferred<int> d;
  d.addTimeout(5, clock);
  d.errback(ConnectionRefusedError());
  EXPECT_TRUE(failureResultOf(d).check<ConnectionRefusedError>());
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(DeferredTimeout, ACancellerThatFiresWithAValueWins) {
  Clock clock;
  Deferred<int> d([](Deferred<int>& self) { self.callback(-1); });
  d.addTimeout(1, clock);
  clock.advance(1);
  EXPECT_EQ(successResultOf(d), -1);
}

TEST(DeferredTimeout, CallbacksAddedBeforeTheTimeoutSeeTheValueFirst) {
  Clock clock;
  Deferred<int> d;
  std::vector<std::string> seen;
  auto s = d.addCallback([&](int v) {
              seen.push_back("cb");
              return std::to_string(v);
            }).addTimeout(1, clock);
  d.callback(4);
  EXPECT_EQ(successResultOf(s), "4");
  EXPECT_EQ(seen, std::vector<std::string>{"cb"});
}

TEST(DeferredTimeout, ATimeoutKeepsAnOtherwiseUnheldChainAlive) {
  Clock clock;
  std::optional<Failure> got;
  {
    Deferred<int> d;
    d.addTimeout(1, clock).addErrback([&](const Failure& f) {
      got = f;
      return 0;
    });
  }
  clock.advance(1);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->check<DeferredTimeoutError>());
}

TEST(DeferredTimeout, ADestroyedClockLeavesNothingBehind) {
  // The timer holds the chain and the chain holds the timer; the clock's end breaks the loop
  // (LeakSanitizer checks this in the sanitizer build).
  auto clock = std::make_unique<Clock>();
  Deferred<int> d;
  d.addTimeout(1, *clock);
  clock.reset();
  d = Deferred<int>();
}

TEST(DeferLater, FiresWithTheFunctionsValueAfterTheDelay) {
  Clock clock;
  int calls = 0;
  Deferred<std::string> d = deferLater(clock, 3, [&] {
    ++calls;
    return std::string("done");
  });
  clock.advance(2.9);
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(hasResult(d));
  clock.advance(0.1);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(successResultOf(d), "done");
}

TEST(DeferLater, WithoutAFunctionFiresWithNothing) {
  Clock clock;
  Deferred<> d = deferLater(clock, 1);
  clock.advance(1);
  EXPECT_TRUE(hasResult(d));
}

TEST(DeferLater, AThrowingFunctionFailsTheDeferred) {
  Clock clock;
  Deferred<int> d = deferLater(clock, 1, []() -> int { throw ConnectionLost(); });
  clock.advance(1);
  EXPECT_TRUE(failureResultOf(d).check<ConnectionLost>());
}

TEST(DeferLater, CancellingCancelsTheCall) {
  Clock clock;
  int calls = 0;
  Deferred<> d = deferLater(clock, 1, [&] { ++calls; });
  EXPECT_EQ(clock.getDelayedCalls().size(), 1u);
  d.cancel();
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  clock.advance(2);
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(failureResultOf(d).check<CancelledError>());
}

TEST(DeferLater, TheFunctionMayReturnADeferred) {
  Clock clock;
  Deferred<int> d = deferLater(clock, 1, [&] { return deferLater(clock, 1, [] { return 2; }); });
  clock.advance(1);
  EXPECT_FALSE(hasResult(d));
  clock.advance(1);
  EXPECT_EQ(successResultOf(d), 2);
}

TEST(DeferLater, ChainsWithATimeout) {
  Clock clock;
  Deferred<int> d = deferLater(clock, 5, [] { return 1; }).addTimeout(2, clock);
  clock.advance(2);
  EXPECT_TRUE(failureResultOf(d).check<DeferredTimeoutError>());
  EXPECT_TRUE(clock.getDelayedCalls().empty()) << "the late call was cancelled with the chain";
}

}  // namespace
}  // namespace spindle
