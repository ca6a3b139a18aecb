// callFromThread: calls from other threads run once each, in order per thread, on the reactor's
// thread, and wake a sleeping reactor.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "support.hpp"

namespace spindle::test {
namespace {

TEST(CallFromThread, FromAnotherThreadRunsOnTheReactorThread) {
  Reactor reactor;
  armWatchdog(reactor);
  auto reactorThread = std::this_thread::get_id();
  std::thread::id ranOn;
  std::thread worker;
  reactor.callWhenRunning([&] {
    worker = std::thread([&] {
      reactor.callFromThread([&] {
        ranOn = std::this_thread::get_id();
        reactor.stop();
      });
    });
  });
  reactor.run();
  worker.join();
  EXPECT_EQ(ranOn, reactorThread);
}

TEST(CallFromThread, ManyThreadsEveryCallOnceInOrderPerThread) {
  constexpr int kThreads = 4;
  constexpr int kCalls = 20000;
  Reactor reactor;
  armWatchdog(reactor, 20);
  std::vector<std::vector<int>> seen(kThreads);
  int total = 0;
  std::vector<std::thread> workers;
  reactor.callWhenRunning([&] {
    for (int t = 0; t < kThreads; ++t) {
      workers.emplace_back([&, t] {
        for (int i = 0; i < kCalls; ++i) {
          reactor.callFromThread([&, t, i] {
            seen[t].push_back(i);
            if (++total == kThreads * kCalls) reactor.stop();
          });
        }
      });
    }
  });
  reactor.run();
  for (auto& w : workers)
    w.join();
  EXPECT_EQ(total, kThreads * kCalls);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(seen[t].size(), static_cast<size_t>(kCalls)) << "thread " << t;
    for (int i = 0; i < kCalls; ++i) {
      if (seen[t][i] != i) {
        ADD_FAILURE() << "thread " << t << ": call " << i << " ran as #" << seen[t][i];
        break;
      }
    }
  }
}

TEST(CallFromThread, PingPongNeverLosesAWakeup) {
  // The worker waits for each call to run before making the next, so the reactor is often
  // asleep in epoll when a call arrives: a lost wake-up stalls until the watchdog.
  constexpr int kRounds = 2000;
  Reactor reactor;
  armWatchdog(reactor, 20);
  std::mutex mu;
  std::condition_variable cv;
  int ran = 0;
  bool done = false;
  std::thread worker;
  reactor.callWhenRunning([&] {
    worker = std::thread([&] {
      for (int i = 0; i < kRounds; ++i) {
        reactor.callFromThread([&] {
          std::lock_guard lock(mu);
          if (++ran == kRounds) reactor.stop();
          cv.notify_all();
        });
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return ran > i || done; });
        if (done) return;
      }
    });
  });
  reactor.run();
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_all();
  worker.join();
  EXPECT_EQ(ran, kRounds);
}

TEST(CallFromThread, CallsMadeBeforeRunRunOnceItStarts) {
  Reactor reactor;
  armWatchdog(reactor);
  std::vector<std::string> order;
  reactor.callFromThread([&] { order.push_back("main"); });
  std::thread worker([&] { reactor.callFromThread([&] { order.push_back("worker"); }); });
  worker.join();
  EXPECT_TRUE(order.empty()) << "nothing runs before run()";
  reactor.callLater(0.01, [&] { reactor.stop(); });
  reactor.run();
  EXPECT_EQ(order, (std::vector<std::string>{"main", "worker"}));
}

TEST(CallFromThread, FromTheReactorThreadAndFromInsideACall) {
  Reactor reactor;
  armWatchdog(reactor);
  std::vector<int> order;
  reactor.callWhenRunning([&] {
    reactor.callFromThread([&] {
      order.push_back(1);
      reactor.callFromThread([&] {
        order.push_back(3);
        reactor.stop();
      });
    });
    reactor.callFromThread([&] { order.push_back(2); });
  });
  reactor.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(CallFromThread, ExceptionInAThreadCallIsLoggedAndTheReactorGoesOn) {
  LogCapture logs;
  Reactor reactor;
  armWatchdog(reactor);
  bool next = false;
  reactor.callWhenRunning([&] {
    reactor.callFromThread([] { throw std::runtime_error("thread-call-boom"); });
    reactor.callFromThread([&] {
      next = true;
      reactor.stop();
    });
  });
  reactor.run();
  EXPECT_TRUE(next);
  EXPECT_TRUE(logs.containsError({"thread-call-boom"})) << logs.dump();
}

TEST(CallFromThread, CallsQueuedAtStopAreDroppedNotLeaked) {
  // Under ASan: what is still queued when run() returns is freed with the reactor.
  Reactor reactor;
  armWatchdog(reactor);
  reactor.callWhenRunning([&] {
    reactor.stop();
    reactor.callFromThread([token = std::make_shared<int>(0)] { ++*token; });
  });
  reactor.run();
  SUCCEED();
}

}  // namespace
}  // namespace spindle::test
