// Running and stopping the reactor: misuse errors, callWhenRunning, system event triggers.
#include <string>
#include <vector>

#include "support.hpp"

namespace spindle::test {
namespace {

TEST(ReactorLifecycle, StopWhenNotRunningThrows) {
  Reactor reactor;
  EXPECT_FALSE(reactor.running());
  EXPECT_THROW(reactor.stop(), ReactorNotRunning);
}

TEST(ReactorLifecycle, StopTwiceThrows) {
  Reactor reactor;
  armWatchdog(reactor);
  bool threw = false;
  reactor.callWhenRunning([&] {
    reactor.stop();
    try {
      reactor.stop();
    } catch (const ReactorNotRunning&) {
      threw = true;
    }
  });
  reactor.run();
  EXPECT_TRUE(threw) << "stop() on a stopping reactor throws ReactorNotRunning";
}

TEST(ReactorLifecycle, StopAfterRunReturnedThrows) {
  Reactor reactor;
  armWatchdog(reactor);
  reactor.callWhenRunning([&] { reactor.stop(); });
  reactor.run();
  EXPECT_THROW(reactor.stop(), ReactorNotRunning);
}

TEST(ReactorLifecycle, RunningIsTrueFromRunUntilStop) {
  Reactor reactor;
  armWatchdog(reactor);
  std::vector<bool> seen;
  reactor.callWhenRunning([&] {
    seen.push_back(reactor.running());
    reactor.stop();
    seen.push_back(reactor.running());
  });
  EXPECT_FALSE(reactor.running());
  reactor.run();
  EXPECT_FALSE(reactor.running());
  EXPECT_EQ(seen, (std::vector<bool>{true, false}));
}

TEST(ReactorLifecycle, StopFromAShutdownTriggerThrows) {
  Reactor reactor;
  armWatchdog(reactor);
  int threw = 0;
  for (Phase phase : {Phase::Before, Phase::During, Phase::After}) {
    reactor.addSystemEventTrigger(phase, "shutdown", [&] {
      try {
        reactor.stop();
      } catch (const ReactorNotRunning&) {
        ++threw;
      }
    });
  }
  reactor.callWhenRunning([&] { reactor.stop(); });
  reactor.run();
  EXPECT_EQ(threw, 3) << "the reactor is already stopping during shutdown";
}

TEST(ReactorLifecycle, RunAfterStopThrowsNotRestartable) {
  Reactor reactor;
  armWatchdog(reactor);
  reactor.callWhenRunning([&] { reactor.stop(); });
  reactor.run();
  EXPECT_THROW(reactor.run(), ReactorNotRestartable);
  EXPECT_THROW(reactor.run(), ReactorNotRestartable);
}

TEST(ReactorLifecycle, RunInsideRunThrowsAlreadyRunning) {
  Reactor reactor;
  armWatchdog(reactor);
  bool threw = false;
  reactor.callLater(0, [&] {
    try {
      reactor.run();
    } catch (const ReactorAlreadyRunning&) {
      threw = true;
    }
    reactor.stop();
  });
  reactor.run();
  EXPECT_TRUE(threw);
}

TEST(ReactorLifecycle, CallWhenRunningBeforeRunWaitsForRun) {
  Reactor reactor;
  armWatchdog(reactor);
  std::vector<int> order;
  reactor.callWhenRunning([&] { order.push_back(1); });
  reactor.callWhenRunning([&] {
    order.push_back(2);
    EXPECT_TRUE(reactor.running());
    reactor.stop();
  });
  EXPECT_TRUE(order.empty());
  reactor.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(ReactorLifecycle, CallWhenRunningWhileRunningRunsAtOnce) {
  Reactor reactor;
  armWatchdog(reactor);
  bool ranInline = false;
  reactor.callLater(0, [&] {
    bool ran = false;
    reactor.callWhenRunning([&] { ran = true; });
    ranInline = ran;
    reactor.stop();
  });
  reactor.run();
  EXPECT_TRUE(ranInline);
}

TEST(ReactorLifecycle, RunReturnsWithTimersStillPending) {
  Reactor reactor;
  armWatchdog(reactor);
  bool late = false;
  reactor.callLater(3600, [&] { late = true; });
  reactor.callLater(0, [&] { reactor.stop(); });
  reactor.run();
  EXPECT_FALSE(late);
}

TEST(ReactorLifecycle, DestroyedWithoutRunning) {
  // Under ASan: ports, connectors and queued calls of a reactor that never ran are freed.
  auto server = std::make_shared<TestServerFactory>();
  auto client = std::make_shared<TestClientFactory>();
  {
    Reactor reactor;
    auto port = listenLocal(reactor, server);
    reactor.connectTCP("127.0.0.1", port->getHost().port(), client);
    reactor.callLater(1, [] {});
    reactor.callFromThread([] {});
    reactor.callWhenRunning([] {});
  }
  EXPECT_TRUE(server->rec->conns.empty());
}

TEST(SystemEvents, ShutdownTriggersRunInPhaseOrderThenAddOrder) {
  Reactor reactor;
  armWatchdog(reactor);
  std::vector<std::string> order;
  auto add = [&](Phase p, std::string name) {
    reactor.addSystemEventTrigger(p, "shutdown", [&order, name] { order.push_back(name); });
  };
  add(Phase::After, "after1");
  add(Phase::During, "during1");
  add(Phase::Before, "before1");
  add(Phase::After, "after2");
  add(Phase::Before, "before2");
  add(Phase::During, "during2");
  reactor.callWhenRunning([&] {
    EXPECT_TRUE(order.empty()) << "shutdown triggers run only after stop()";
    reactor.stop();
  });
  reactor.run();
  EXPECT_EQ(order, (std::vector<std::string>{"before1", "before2", "during1", "during2", "after1",
                                             "after2"}));
}

TEST(SystemEvents, StringPhases) {
  Reactor reactor;
  armWatchdog(reactor);
  std::vector<std::string> order;
  for (std::string phase : {"after", "during", "before"}) {
    reactor.addSystemEventTrigger(phase, "shutdown", [&order, phase] { order.push_back(phase); });
  }
  reactor.callWhenRunning([&] { reactor.stop(); });
  reactor.run();
  EXPECT_EQ(order, (std::vector<std::string>{"before", "during", "after"}));
}

TEST(SystemEvents, UnknownPhaseNameThrows) {
  Reactor reactor;
  EXPECT_THROW(reactor.addSystemEventTrigger("sometime", "shutdown", [] {}), Error);
  EXPECT_THROW(reactor.addSystemEventTrigger("", "shutdown", [] {}), Error);
  EXPECT_THROW(reactor.addSystemEventTrigger("Before", "shutdown", [] {}), Error);
}

TEST(SystemEvents, RemovedTriggerDoesNotRun) {
  Reactor reactor;
  armWatchdog(reactor);
  std::vector<std::string> order;
  reactor.addSystemEventTrigger(Phase::Before, "shutdown", [&] { order.push_back("kept1"); });
  auto id = reactor.addSystemEventTrigger("before", "shutdown", [&] { order.push_back("gone"); });
  reactor.addSystemEventTrigger(Phase::After, "shutdown", [&] { order.push_back("kept2"); });
  reactor.removeSystemEventTrigger(id);
  reactor.callWhenRunning([&] { reactor.stop(); });
  reactor.run();
  EXPECT_EQ(order, (std::vector<std::string>{"kept1", "kept2"}));
}

TEST(SystemEvents, StartupTriggersRunWhenRunStarts) {
  Reactor reactor;
  armWatchdog(reactor);
  std::vector<std::string> order;
  reactor.addSystemEventTrigger(Phase::After, "startup", [&] { order.push_back("after"); });
  reactor.addSystemEventTrigger(Phase::Before, "startup", [&] { order.push_back("before"); });
  reactor.addSystemEventTrigger(Phase::During, "startup", [&] { order.push_back("during"); });
  EXPECT_TRUE(order.empty());
  reactor.callLater(0, [&] {
    order.push_back("timer");
    reactor.stop();
  });
  reactor.run();
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order.back(), "timer");
  EXPECT_EQ((std::vector<std::string>(order.begin(), order.end() - 1)),
            (std::vector<std::string>{"before", "during", "after"}));
}

TEST(SystemEvents, FireSystemEventRunsOnlyThatEventsTriggers) {
  Reactor reactor;
  std::vector<std::string> order;
  reactor.addSystemEventTrigger(Phase::After, "custom", [&] { order.push_back("c-after"); });
  reactor.addSystemEventTrigger(Phase::Before, "custom", [&] { order.push_back("c-before"); });
  reactor.addSystemEventTrigger(Phase::Before, "other", [&] { order.push_back("other"); });
  reactor.addSystemEventTrigger(Phase::Before, "shutdown", [&] { order.push_back("shutdown"); });
  reactor.fireSystemEvent("custom");
  EXPECT_EQ(order, (std::vector<std::string>{"c-before", "c-after"}));
}

TEST(SystemEvents, ShutdownTriggersRunOnce) {
  Reactor reactor;
  armWatchdog(reactor);
  int runs = 0;
  reactor.addSystemEventTrigger(Phase::During, "shutdown", [&] { ++runs; });
  reactor.callWhenRunning([&] { reactor.stop(); });
  reactor.run();
  EXPECT_EQ(runs, 1);
  EXPECT_THROW(reactor.run(), ReactorNotRestartable);
  EXPECT_EQ(runs, 1);
}

}  // namespace
}  // namespace spindle::test
