// Task<T>: coroutines over Deferreds. Values and exceptions through co_await, chains of tasks,
// cancellation, and the lifetime of a suspended frame (checked by the sanitizer build).
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "spindle/coroutine.hpp"
#include "spindle/defer_list.hpp"
#include "spindle/testing.hpp"
#include "test_deferred_helpers.hpp"

namespace spindle {
namespace {

using testing::Clock;
using testing::ErrorLog;
using testing::failureResultOf;
using testing::hasResult;
using testing::successResultOf;

Task<std::size_t> poemLength(Deferred<std::string> poem) {
  std::string text = co_await poem;
  co_return text.size();
}

TEST(Coroutine, ATaskThatNeverWaitsIsDoneWhenCalled) {
  auto now = []() -> Task<int> { co_return 42; };
  EXPECT_EQ(successResultOf(ensureDeferred(now())), 42);
}

TEST(Coroutine, CoAwaitSuspendsUntilTheDeferredFires) {
  Deferred<std::string> poem;
  Deferred<std::size_t> length = poemLength(poem);
  EXPECT_FALSE(hasResult(length));
  poem.callback("Tyger Tyger, burning bright");
  EXPECT_EQ(successResultOf(length), 27u);
}

Task<void> record(std::vector<std::string>& log, Deferred<int> d) {
  log.push_back("before");
  int v = co_await d;
  log.push_back("after " + std::to_string(v));
}

TEST(Coroutine, ATaskRunsAtOnceUntilItsFirstWait) {
  std::vector<std::string> log;
  Deferred<int> d;
  Deferred<> done = record(log, d);
  EXPECT_EQ(log, std::vector<std::string>{"before"});
  d.callback(3);
  EXPECT_EQ(log, (std::vector<std::string>{"before", "after 3"}));
  EXPECT_TRUE(hasResult(done));
}

TEST(Coroutine, CoAwaitOfAFiredDeferredDoesNotSuspend) {
  std::vector<std::string> log;
  Deferred<> done = record(log, succeed(9));
  EXPECT_EQ(log, (std::vector<std::string>{"before", "after 9"}));
  EXPECT_TRUE(hasResult(done));
}

Task<int> sumOfFired(int n) {
  int total = 0;
  for (int i = 0; i < n; ++i)
    total += co_await succeed(1);
  co_return total;
}

TEST(Coroutine, ManyFiredAwaitsInALoopUseNoStack) {
  EXPECT_EQ(successResultOf(ensureDeferred(sumOfFired(100000))), 100000);
}

Task<std::string> catching(Deferred<int> d) {
  try {
    co_await d;
    co_return "no error";
  } catch (const ConnectionRefusedError& e) {
    co_return std::string("caught: ") + e.what();
  }
}

TEST(Coroutine, AFailureIsThrownAtTheCoAwait) {
  Deferred<int> d;
  Deferred<std::string> r = catching(d);
  d.errback(ConnectionRefusedError());
  EXPECT_EQ(successResultOf(r).rfind("caught: Connection was refused", 0), 0u);
}

TEST(Coroutine, AnEscapingExceptionErrbacksTheTasksDeferredKeepingItsOrigin) {
  Deferred<std::string> poem;
  Deferred<std::size_t> length = poemLength(poem);
  Failure sent{ConnectionLost()};
  poem.errback(sent);
  Failure got = failureResultOf(length);
  EXPECT_TRUE(got.check<ConnectionLost>());
  EXPECT_EQ(got.value(), sent.value()) << "the same exception, through the coroutine";
  EXPECT_EQ(got.where().line(), sent.where().line());
}

TEST(Coroutine, AnExceptionThrownByTheCoroutineItselfNamesIt) {
  auto throwing = [](int x) -> Task<int> {
    if (x > 0) throw std::invalid_argument("positive");
    co_return x;
  };
  Failure f = failureResultOf(ensureDeferred(throwing(1)));
  EXPECT_TRUE(f.check<std::invalid_argument>());
  EXPECT_NE(std::string(f.where().file_name()).find("test_coroutine.cpp"), std::string::npos);
}

Task<std::size_t> twoPoems(Deferred<std::string> a, Deferred<std::string> b) {
  std::size_t first = co_await poemLength(a);
  std::size_t second = co_await poemLength(b);
  co_return first + second;
}

TEST(Coroutine, TasksAwaitTasks) {
  Deferred<std::string> a, b;
  Deferred<std::size_t> total = twoPoems(a, b);
  b.callback("four");  // fired early: the second task finds it ready
  EXPECT_FALSE(hasResult(total));
  a.callback("one");
  EXPECT_EQ(successResultOf(total), 7u);
}

Task<int> viaClock(Clock& clock, int steps) {
  int ticks = 0;
  for (int i = 0; i < steps; ++i) {
    co_await deferLater(clock, 1);
    ++ticks;
  }
  co_return ticks;
}

TEST(Coroutine, AwaitsTimedCalls) {
  Clock clock;
  Deferred<int> d = viaClock(clock, 3);
  clock.advance(1);
  clock.advance(1);
  EXPECT_FALSE(hasResult(d));
  clock.advance(1);
  EXPECT_EQ(successResultOf(d), 3);
}

TEST(Coroutine, AwaitsAGatheredList) {
  auto both = [](Deferred<int> a, Deferred<int> b) -> Task<int> {
    // (g++ 12 cannot compile a braced list inside a co_await expression: build it first.)
    std::vector<Deferred<int>> inputs{a, b};
    std::vector<int> values = co_await gatherResults(inputs);
    co_return values[0] * values[1];
  };
  Deferred<int> a, b;
  Deferred<int> r = both(a, b);
  a.callback(6);
  b.callback(7);
  EXPECT_EQ(successResultOf(r), 42);
}

TEST(Coroutine, ACallbackMayReturnATask) {
  Deferred<std::string> poem;
  Deferred<int> source;
  auto r = source.addCallback([&](int) { return poemLength(poem); });
  source.callback(0);
  EXPECT_FALSE(hasResult(r));
  poem.callback("abc");
  EXPECT_EQ(successResultOf(r), 3u);
  EXPECT_EQ(successResultOf(maybeDeferred([] { return poemLength(succeed(std::string("xy"))); })),
            2u);
}

TEST(Coroutine, CancellingTheTaskCancelsWhatItAwaits) {
  int cancels = 0;
  Deferred<std::string> poem([&] { ++cancels; });
  Deferred<std::size_t> length = poemLength(poem);
  length.cancel();
  EXPECT_EQ(cancels, 1);
  EXPECT_TRUE(failureResultOf(length).check<CancelledError>());
}

Task<std::string> stubborn(Deferred<int> first, Deferred<int> second) {
  try {
    co_await first;
  } catch (const CancelledError&) {
    co_return "cancelled, cleaned up";
  }
  co_await second;
  co_return "finished";
}

TEST(Coroutine, ACoroutineMayCatchItsCancellation) {
  Deferred<int> first, second;
  Deferred<std::string> r = stubborn(first, second);
  r.cancel();
  EXPECT_EQ(successResultOf(r), "cancelled, cleaned up");
}

Task<std::string> slowCleanup(Deferred<int> first, Deferred<int> cleanup, bool& finished) {
  try {
    co_await first;
  } catch (const CancelledError&) {
  }
  co_await cleanup;  // still running after the cancel
  finished = true;
  co_return "too late";
}

TEST(Coroutine, ACoroutineStillRunningAfterItsCancelIsNotAnError) {
  ErrorLog log;
  bool finished = false;
  Deferred<int> first, cleanup;
  Deferred<std::string> r = slowCleanup(first, cleanup, finished);
  r.cancel();
  EXPECT_TRUE(failureResultOf(r).check<CancelledError>()) << "cancel() fired it";
  cleanup.callback(0);
  EXPECT_TRUE(finished);
  EXPECT_TRUE(log.lines.empty()) << "its late value is dropped quietly";
}

TEST(Coroutine, CancellationGoesThroughNestedTasks) {
  int cancels = 0;
  Deferred<std::string> a([&] { ++cancels; }), b;
  Deferred<std::size_t> total = twoPoems(a, b);
  total.cancel();
  EXPECT_EQ(cancels, 1);
  EXPECT_TRUE(failureResultOf(total).check<CancelledError>());
}

TEST(Coroutine, CancellingAFinishedTaskDoesNothing) {
  Deferred<std::size_t> length = poemLength(succeed(std::string("ab")));
  length.cancel();
  EXPECT_EQ(successResultOf(length), 2u);
}

TEST(Coroutine, ATimeoutOnATask) {
  Clock clock;
  Deferred<int> d = ensureDeferred(viaClock(clock, 10)).addTimeout(2.5, clock);
  clock.pump({1, 1, 1});
  EXPECT_TRUE(failureResultOf(d).check<DeferredTimeoutError>());
  EXPECT_TRUE(clock.getDelayedCalls().empty()) << "the awaited timed call was cancelled";
}

// Counts live instances, to see a frame's locals destroyed.
struct Tracker {
  explicit Tracker(int& live) : live_(live) { ++live_; }
  ~Tracker() { --live_; }
  Tracker(const Tracker&) = delete;
  int& live_;
};

Task<int> holdsATracker(int& live, bool& resumed, Deferred<int> d) {
  Tracker t(live);
  int v = co_await std::move(d);  // the frame keeps no handle on what it waits for
  resumed = true;
  co_return v;
}

TEST(CoroutineLifetime, AFrameWhoseHandlesAreAllDroppedStillFinishes) {
  int live = 0;
  bool resumed = false;
  Deferred<int> d;
  holdsATracker(live, resumed, d);  // the Task is dropped at once
  EXPECT_EQ(live, 1) << "suspended, owned by d's chain";
  d.callback(5);
  EXPECT_TRUE(resumed);
  EXPECT_EQ(live, 0) << "done, so destroyed";
}

TEST(CoroutineLifetime, DestroyingANeverFiredAwaitedDeferredDestroysTheFrame) {
  int live = 0;
  bool resumed = false;
  std::optional<Deferred<int>> d(std::in_place);
  Deferred<int> task = holdsATracker(live, resumed, *d);
  EXPECT_EQ(live, 1);
  d.reset();
  EXPECT_EQ(live, 0) << "the frame went with the only chain that could resume it";
  EXPECT_FALSE(resumed);
  EXPECT_FALSE(task.called()) << "the task never fires";
  task.cancel();
  EXPECT_TRUE(failureResultOf(task).check<CancelledError>()) << "and cancelling it is safe";
}

TEST(CoroutineLifetime, AwaitingADeferredNobodyHoldsEndsTheFrameAtOnce) {
  int live = 0;
  bool resumed = false;
  Deferred<int> task = holdsATracker(live, resumed, Deferred<int>());
  EXPECT_EQ(live, 0);
  EXPECT_FALSE(resumed);
  EXPECT_FALSE(task.called());
}

TEST(CoroutineLifetime, ANestedChainOfFramesIsFreedFromTheInnermost) {
  int live = 0;
  bool resumed = false;
  auto outer = [](int& n, bool& r, Deferred<int> d) -> Task<int> {
    Tracker t(n);
    co_return co_await holdsATracker(n, r, std::move(d));
  };
  std::optional<Deferred<int>> d(std::in_place);
  Deferred<int> task = outer(live, resumed, *d);
  EXPECT_EQ(live, 2);
  d.reset();
  EXPECT_EQ(live, 0) << "the inner frame freed its chain, which freed the outer frame";
}

Task<int> keepsItsHandle(int& live, Deferred<int> d) {
  Tracker t(live);
  co_return co_await d;  // `d` stays in the frame while it waits
}

TEST(CoroutineLifetime, AFrameHoldingWhatItAwaitsEndsWhenTheTaskIsCancelled) {
  int live = 0;
  Deferred<int> task = keepsItsHandle(live, Deferred<int>());
  EXPECT_EQ(live, 1) << "the frame and the chain it awaits hold each other";
  task.cancel();
  EXPECT_EQ(live, 0);
  EXPECT_TRUE(failureResultOf(task).check<CancelledError>());
}

TEST(CoroutineLifetime, AwaitingATemporaryKeepsNoHandleInTheFrame) {
  int live = 0;
  auto source = [] { return Deferred<int>(); };  // its producer is gone at once
  auto waiter = [](int& n, auto make) -> Task<int> {
    Tracker t(n);
    co_return co_await make();
  };
  Deferred<int> task = waiter(live, source);
  EXPECT_EQ(live, 0) << "nothing can fire what it awaits: the frame is gone";
  EXPECT_FALSE(task.called());
}

TEST(CoroutineLifetime, FiringFromInsideTheCoroutinesOwnResumption) {
  // The coroutine fires the Deferred the caller waits on, which drops the Task while the
  // coroutine is still on the stack.
  Deferred<int> in, out;
  auto relay = [](Deferred<int> from, Deferred<int> to) -> Task<void> {
    int v = co_await from;
    to.callback(v + 1);
  };
  std::optional<Deferred<>> task(relay(in, out));
  out.addCallback([&](int v) {
    task.reset();
    return v;
  });
  in.callback(1);
  EXPECT_EQ(successResultOf(out), 2);
}

TEST(Coroutine, AStaleHandleThrowsAtTheCoAwait) {
  Deferred<int> d;
  d.addCallback([](int v) { return std::to_string(v); });
  auto awaitIt = [](Deferred<int> x) -> Task<int> { co_return co_await x; };
  EXPECT_TRUE(failureResultOf(ensureDeferred(awaitIt(d))).check<std::logic_error>());
  d = Deferred<int>();
}

}  // namespace
}  // namespace spindle
