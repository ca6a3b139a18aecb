// Timed calls on the real reactor: order, passes, errors in calls, the clock.
#include <algorithm>
#include <string>
#include <vector>

#include "support.hpp"

namespace spindle::test {
namespace {

TEST(ReactorTimers, RunInDeadlineOrderAndEqualDeadlinesInSchedulingOrder) {
  Reactor reactor;
  armWatchdog(reactor);
  std::vector<std::string> order;
  auto rec = [&](std::string s) { return [&order, s] { order.push_back(s); }; };
  reactor.callLater(0.03, rec("c1"));
  reactor.callLater(0.01, rec("a1"));
  reactor.callLater(0.02, rec("b1"));
  reactor.callLater(0.01, rec("a2"));
  reactor.callLater(0.03, rec("c2"));
  reactor.callLater(0.02, rec("b2"));
  reactor.callLater(0.01, rec("a3"));
  reactor.callLater(0.04, [&] { reactor.stop(); });
  reactor.run();
  EXPECT_EQ(order, (std::vector<std::string>{"a1", "a2", "a3", "b1", "b2", "c1", "c2"}));
}

TEST(ReactorTimers, CallsDoNotRunBeforeTheirTime) {
  Reactor reactor;
  armWatchdog(reactor);
  double start = reactor.seconds();
  auto dc = reactor.callLater(0.05, [&] { reactor.stop(); });
  double due = dc.getTime();
  EXPECT_NEAR(due, start + 0.05, 0.01);
  double ranAt = 0;
  reactor.callLater(0.05, [&] { ranAt = reactor.seconds(); });
  reactor.run();
  EXPECT_TRUE(dc.called());
  EXPECT_GE(ranAt, due - 1e-6);
}

TEST(ReactorTimers, SecondsIsMonotonic) {
  Reactor reactor;
  armWatchdog(reactor);
  double last = reactor.seconds();
  int steps = 0;
  std::function<void()> tick = [&] {
    double now = reactor.seconds();
    EXPECT_GE(now, last);
    last = now;
    if (++steps == 20) {
      reactor.stop();
    } else {
      reactor.callLater(0.001, tick);
    }
  };
  reactor.callLater(0, tick);
  reactor.run();
  EXPECT_EQ(steps, 20);
}

TEST(ReactorTimers, CancelResetAndDelay) {
  Reactor reactor;
  armWatchdog(reactor);
  std::vector<std::string> order;
  auto a = reactor.callLater(0.01, [&] { order.push_back("a"); });
  auto b = reactor.callLater(0.02, [&] { order.push_back("b"); });
  auto c = reactor.callLater(0.03, [&] { order.push_back("c"); });
  auto d = reactor.callLater(0.01, [&] { order.push_back("d"); });
  a.reset(0.025);   // a after b
  c.delay(-0.025);  // c first
  d.cancel();
  EXPECT_THROW(d.cancel(), AlreadyCancelled);
  reactor.callLater(0.05, [&] { reactor.stop(); });
  reactor.run();
  EXPECT_EQ(order, (std::vector<std::string>{"c", "b", "a"}));
  EXPECT_THROW(a.cancel(), AlreadyCalled);
  EXPECT_THROW(b.reset(1), AlreadyCalled);
  EXPECT_THROW(c.delay(1), AlreadyCalled);
  EXPECT_THROW(d.reset(1), AlreadyCancelled);
}

TEST(ReactorTimers, ActiveAndGetTime) {
  Reactor reactor;
  double before = reactor.seconds();
  auto dc = reactor.callLater(10, [] {});
  double after = reactor.seconds();
  EXPECT_TRUE(dc.active());
  EXPECT_GE(dc.getTime(), before + 10);
  EXPECT_LE(dc.getTime(), after + 10);
  dc.delay(5);
  EXPECT_GE(dc.getTime(), before + 15);
  EXPECT_LE(dc.getTime(), after + 15);
  dc.cancel();
  EXPECT_FALSE(dc.active());
}

TEST(ReactorTimers, GetDelayedCalls) {
  Reactor reactor;
  auto c = reactor.callLater(30, [] {});
  auto a = reactor.callLater(10, [] {});
  auto b = reactor.callLater(20, [] {});
  auto gone = reactor.callLater(15, [] {});
  gone.cancel();
  auto calls = reactor.getDelayedCalls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_DOUBLE_EQ(calls[0].getTime(), a.getTime());
  EXPECT_DOUBLE_EQ(calls[1].getTime(), b.getTime());
  EXPECT_DOUBLE_EQ(calls[2].getTime(), c.getTime());
  calls[0].cancel();
  EXPECT_TRUE(a.cancelled());
  EXPECT_EQ(reactor.getDelayedCalls().size(), 2u);
}

TEST(ReactorTimers, CallLaterZeroFromATimedCallRunsInALaterPass) {
  // A call scheduled by a timed call, even with delay 0, waits for the next pass: a thread call
  // queued at the same moment (handled between passes) runs first.
  Reactor reactor;
  armWatchdog(reactor);
  std::vector<std::string> order;
  reactor.callLater(0, [&] {
    order.push_back("a");
    reactor.callFromThread([&] { order.push_back("thread"); });
    reactor.callLater(0, [&] {
      order.push_back("inner");
      reactor.stop();
    });
  });
  reactor.callLater(0, [&] { order.push_back("b"); });
  reactor.run();
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "thread", "inner"}));
}

TEST(ReactorTimers, SelfReschedulingCallDoesNotStarveOtherEvents) {
  // A call that reschedules itself with delay 0 must let I/O and thread calls through: if the
  // rescheduled call ran in the same pass this would spin until the iteration cap.
  Reactor reactor;
  armWatchdog(reactor);
  bool threadCallRan = false;
  int spins = 0;
  std::function<void()> spin = [&] {
    if (threadCallRan) {
      reactor.stop();
      return;
    }
    if (++spins > 1000000) {
      ADD_FAILURE() << "callLater(0) loop starved the thread call";
      reactor.stop();
      return;
    }
    reactor.callLater(0, spin);
  };
  reactor.callLater(0, [&] {
    reactor.callFromThread([&] { threadCallRan = true; });
    spin();
  });
  reactor.run();
  EXPECT_TRUE(threadCallRan);
  EXPECT_LT(spins, 100);
}

TEST(ReactorTimers, ExceptionInATimedCallIsLoggedAndTheReactorGoesOn) {
  LogCapture logs;
  Reactor reactor;
  armWatchdog(reactor);
  bool later = false, sameTime = false;
  reactor.callLater(0, [] { throw std::runtime_error("timer-boom"); });
  reactor.callLater(0, [&] { sameTime = true; });
  reactor.callLater(0.01, [&] {
    later = true;
    reactor.stop();
  });
  reactor.run();
  EXPECT_TRUE(sameTime) << "a call due in the same pass still runs";
  EXPECT_TRUE(later);
  EXPECT_TRUE(logs.containsError({"timer-boom"})) << logs.dump();
}

TEST(ReactorTimers, NonStandardExceptionInATimedCallIsLogged) {
  LogCapture logs;
  Reactor reactor;
  armWatchdog(reactor);
  bool later = false;
  reactor.callLater(0, [] { throw 42; });
  reactor.callLater(0.01, [&] {
    later = true;
    reactor.stop();
  });
  reactor.run();
  EXPECT_TRUE(later);
  EXPECT_NE(logs.dump(), "<no log messages>");
}

TEST(ReactorTimers, CancelFromInsideAnotherCall) {
  Reactor reactor;
  armWatchdog(reactor);
  bool ran = false;
  DelayedCall victim;
  reactor.callLater(0.01, [&] { victim.cancel(); });
  victim = reactor.callLater(0.01, [&] { ran = true; });
  reactor.callLater(0.02, [&] { reactor.stop(); });
  reactor.run();
  EXPECT_FALSE(ran);
  EXPECT_TRUE(victim.cancelled());
}

TEST(ReactorTimers, ManyTimersWithCancellations) {
  Reactor reactor;
  armWatchdog(reactor);
  std::vector<DelayedCall> calls;
  std::vector<int> ran;
  for (int i = 0; i < 1000; ++i) {
    calls.push_back(reactor.callLater((i % 10) * 0.001, [&ran, i] { ran.push_back(i); }));
  }
  std::vector<double> due;
  for (auto& c : calls)
    due.push_back(c.getTime());
  for (int i = 0; i < 1000; i += 2)
    calls[i].cancel();
  reactor.callLater(0.05, [&] { reactor.stop(); });
  reactor.run();
  // Deadlines are counted from when each call was made, and the clock moves while the loop
  // above runs, so the expected order comes from each call's own time (ties: scheduling order).
  std::vector<int> expected;
  for (int i = 1; i < 1000; i += 2)
    expected.push_back(i);
  std::stable_sort(expected.begin(), expected.end(), [&](int a, int b) { return due[a] < due[b]; });
  EXPECT_EQ(ran, expected);
}

}  // namespace
}  // namespace spindle::test
