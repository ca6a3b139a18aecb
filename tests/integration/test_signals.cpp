// run({.installSignalHandlers = true}): SIGTERM and SIGINT stop the reactor cleanly, and the
// previous dispositions are back once run() returns. Without the option nothing is touched.
#include <signal.h>

#include <atomic>
#include <thread>

#include "support.hpp"

namespace spindle::test {
namespace {

std::atomic<int> previousHandlerCalls{0};
extern "C" void previousHandler(int) {
  previousHandlerCalls.fetch_add(1);
}

/// Installs previousHandler for `sig` (so a stray signal cannot kill the test run) and puts
/// back what was there before.
class PreviousHandler {
 public:
  explicit PreviousHandler(int sig) : sig_(sig) {
    struct sigaction sa {};
    sa.sa_handler = previousHandler;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig_, &sa, &saved_);
    previousHandlerCalls = 0;
  }
  ~PreviousHandler() { ::sigaction(sig_, &saved_, nullptr); }
  static void (*current(int sig))(int) {
    struct sigaction now {};
    ::sigaction(sig, nullptr, &now);
    return now.sa_handler;
  }

 private:
  int sig_;
  struct sigaction saved_ {};
};

class Signals : public ::testing::TestWithParam<int> {};

TEST_P(Signals, StopTheReactorAndRestoreThePreviousHandler) {
  const int sig = GetParam();
  PreviousHandler prev(sig);
  Reactor reactor;
  armWatchdog(reactor);
  bool shutdownRan = false;
  bool replacedDuringRun = false;
  reactor.addSystemEventTrigger(Phase::Before, "shutdown", [&] { shutdownRan = true; });
  reactor.callLater(0.01, [&] {
    replacedDuringRun = PreviousHandler::current(sig) != previousHandler;
    ::raise(sig);
  });
  reactor.run({.installSignalHandlers = true});
  EXPECT_TRUE(replacedDuringRun) << "no handler was installed for the signal";
  EXPECT_TRUE(shutdownRan) << "the signal stops the reactor through the normal shutdown";
  EXPECT_FALSE(reactor.running());
  EXPECT_EQ(PreviousHandler::current(sig), previousHandler) << "the old handler was not restored";
  EXPECT_EQ(previousHandlerCalls.load(), 0);
  ::raise(sig);
  EXPECT_EQ(previousHandlerCalls.load(), 1) << "after run() the signal goes to the old handler";
}

INSTANTIATE_TEST_SUITE_P(TermAndInt, Signals, ::testing::Values(SIGTERM, SIGINT),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(info.param == SIGTERM ? "SIGTERM" : "SIGINT");
                         });

TEST(SignalsOff, HandlersAreNotTouchedByDefault) {
  PreviousHandler term(SIGTERM);
  PreviousHandler intr(SIGINT);
  Reactor reactor;
  armWatchdog(reactor);
  bool untouched = false;
  reactor.callWhenRunning([&] {
    untouched = PreviousHandler::current(SIGTERM) == previousHandler &&
                PreviousHandler::current(SIGINT) == previousHandler;
    reactor.stop();
  });
  reactor.run();
  EXPECT_TRUE(untouched);
  EXPECT_EQ(PreviousHandler::current(SIGTERM), previousHandler);
}

TEST(SignalHandlers, SignalSentFromAnotherThreadStopsTheReactor) {
  PreviousHandler prev(SIGTERM);
  Reactor reactor;
  armWatchdog(reactor);
  std::thread killer;
  reactor.callWhenRunning([&] { killer = std::thread([] { ::kill(::getpid(), SIGTERM); }); });
  reactor.run({.installSignalHandlers = true});
  killer.join();
  EXPECT_EQ(PreviousHandler::current(SIGTERM), previousHandler);
}

}  // namespace
}  // namespace spindle::test
