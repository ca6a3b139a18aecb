// Errors cannot be lost silently: every way a chain can end up holding an error nobody handled
// logs "Unhandled error in Deferred", and handled errors log nothing.
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

using testing::ErrorLog;
using testing::failureResultOf;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(DeferredErrors, DroppingAChainThatHoldsAnErrorLogsIt) {
  ErrorLog log;
  unsigned line = 0;
  {
    Deferred<int> d;
    d.errback(ConnectionRefusedError("port 10000"));
    line = __LINE__ - 1;
    EXPECT_TRUE(log.lines.empty()) << "nothing is logged while a handler may still be added";
  }
  ASSERT_EQ(log.lines.size(), 1u);
  const std::string& l = log.lines[0];
  EXPECT_EQ(l.rfind("Unhandled error in Deferred: ", 0), 0u) << l;
  EXPECT_TRUE(contains(l, "spindle::ConnectionRefusedError")) << l;
  EXPECT_TRUE(contains(l, "port 10000")) << l;
  EXPECT_TRUE(contains(l, "test_deferred_errors.cpp:" + std::to_string(line))) << l;
}

TEST(DeferredErrors, AnErrorFromACallbackIsLoggedWithWhereTheCallbackWasAdded) {
  ErrorLog log;
  unsigned line = 0;
  {
    Deferred<int> d;
    d.addCallback([](int) -> int { throw std::out_of_range("no such stanza"); });
    line = __LINE__ - 1;
    d.callback(1);
  }
  ASSERT_EQ(log.unhandled(), 1u);
  EXPECT_TRUE(contains(log.lines[0], "std::out_of_range: no such stanza")) << log.lines[0];
  EXPECT_TRUE(contains(log.lines[0], ":" + std::to_string(line))) << log.lines[0];
}

TEST(DeferredErrors, AnErrbackThatRethrowsLeavesTheErrorUnhandled) {
  ErrorLog log;
  {
    Deferred<int> d;
    d.addErrback([](const Failure& f) -> int { f.raiseException(); });
    d.addErrback([](const Failure& f) {
      f.trap<ConnectionDone>();  // not what it is: passes it on
      return 0;
    });
    d.errback(ConnectionLost());
  }
  ASSERT_EQ(log.unhandled(), 1u);
  EXPECT_TRUE(contains(log.lines[0], "spindle::ConnectionLost")) << log.lines[0];
}

TEST(DeferredErrors, AHandledErrorLogsNothing) {
  ErrorLog log;
  {
    Deferred<int> d;
    d.addErrback([](const Failure&) { return 0; });
    d.errback(ConnectionLost());
    Deferred<> e;
    e.addBoth([](const Result<void>&) {});
    e.errback(ConnectionLost());
    Deferred<> never;  // dropped unfired: nothing to report
  }
  EXPECT_TRUE(log.lines.empty());
}

TEST(DeferredErrors, AnErrorThatMovesToAnotherChainIsReportedOnceThere) {
  ErrorLog log;
  {
    Deferred<int> outer, inner;
    outer.addCallback([&](int) { return inner; });
    outer.callback(0);
    inner.errback(ConnectionLost());
  }
  EXPECT_EQ(log.unhandled(), 1u) << ::testing::PrintToString(log.lines);

  ErrorLog handled;
  {
    Deferred<int> outer, inner;
    outer.addCallback([&](int) { return inner; }).addErrback([](const Failure&) { return 1; });
    outer.callback(0);
    inner.errback(ConnectionLost());
  }
  EXPECT_TRUE(handled.lines.empty()) << "the inner chain no longer holds it";
}

TEST(DeferredErrors, AChainWaitingOnADroppedDeferredLogsNothing) {
  ErrorLog log;
  {
    Deferred<int> d;
    {
      Deferred<int> later;  // dropped unfired
      d.addErrback([later](const Failure&) { return later; });
    }
    d.errback(ConnectionLost());  // recovered by waiting on `later`, which never comes
  }
  EXPECT_TRUE(log.lines.empty()) << ::testing::PrintToString(log.lines);
}

TEST(DeferredErrors, AnInputsErrorIsLoggedUnlessTheListConsumesIt) {
  ErrorLog log;
  {
    Deferred<int> input;
    auto list = DeferredList(std::vector<Deferred<int>>{input});
    input.errback(ConnectionRefusedError());
    EXPECT_TRUE(testing::successResultOf(list)[0].failed()) << "the list reports it";
  }
  EXPECT_EQ(log.unhandled(), 1u) << "and so does the input, which kept it";

  ErrorLog consumed;
  {
    Deferred<int> input;
    auto list = DeferredList(std::vector<Deferred<int>>{input}, {.consumeErrors = true});
    input.errback(ConnectionRefusedError());
    EXPECT_TRUE(testing::successResultOf(list)[0].failed());
  }
  EXPECT_TRUE(consumed.lines.empty());
}

TEST(DeferredErrors, AFirstErrorNobodyHandlesIsLogged) {
  ErrorLog log;
  {
    std::vector<Deferred<int>> ds(2);
    auto all = gatherResults(ds);
    ds[0].errback(ConnectionLost());
    ds[1].errback(ConnectionDone());
  }
  ASSERT_EQ(log.unhandled(), 1u) << ::testing::PrintToString(log.lines);
  EXPECT_TRUE(contains(log.lines[0], "FirstError[#0, spindle::ConnectionLost")) << log.lines[0];
}

Task<int> failingTask() {
  throw ConnectionLost();
  co_return 0;
}

TEST(DeferredErrors, AnErrorInATaskNobodyAwaitsIsLogged) {
  ErrorLog log;
  { failingTask(); }
  ASSERT_EQ(log.unhandled(), 1u);
  EXPECT_TRUE(contains(log.lines[0], "spindle::ConnectionLost")) << log.lines[0];
  EXPECT_TRUE(contains(log.lines[0], "failingTask")) << log.lines[0];
}

TEST(DeferredErrors, ACancelledErrorNobodyHandlesIsLogged) {
  ErrorLog log;
  {
    Deferred<int> d;
    d.cancel();
  }
  ASSERT_EQ(log.unhandled(), 1u);
  EXPECT_TRUE(contains(log.lines[0], "spindle::CancelledError")) << log.lines[0];
}

TEST(DeferredErrors, AnErrorArrivingAfterACancelIsLogged) {
  ErrorLog log;
  Deferred<int> d;
  d.addErrback([](const Failure&) { return 0; });  // handles the CancelledError
  d.cancel();
  EXPECT_TRUE(log.lines.empty());
  d.errback(ConnectionLost());  // the producer's own error: forgiven, but not hidden
  ASSERT_EQ(log.unhandled(), 1u);
  EXPECT_TRUE(contains(log.lines[0], "after the Deferred was cancelled")) << log.lines[0];
  EXPECT_TRUE(contains(log.lines[0], "spindle::ConnectionLost")) << log.lines[0];

  Deferred<int> e;
  e.addErrback([](const Failure&) { return 0; });
  e.cancel();
  e.errback(CancelledError());  // the producer echoing the cancel: not news
  EXPECT_EQ(log.lines.size(), 1u);
}

TEST(DeferredErrors, AnErrorAfterATimeoutIsLogged) {
  ErrorLog log;
  testing::Clock clock;
  {
    Deferred<int> d;
    d.addTimeout(1, clock);
    clock.advance(1);
  }
  ASSERT_EQ(log.unhandled(), 1u);
  EXPECT_TRUE(contains(log.lines[0], "spindle::DeferredTimeoutError")) << log.lines[0];
}

TEST(DeferredErrors, AFailureReturnedByAnErrbackIsLogged) {
  ErrorLog log;
  {
    Deferred<int> d;
    d.addErrback([](const Failure&) { return Failure(std::runtime_error("replaced")); });
    d.errback(ConnectionLost());
  }
  ASSERT_EQ(log.unhandled(), 1u);
  EXPECT_TRUE(contains(log.lines[0], "std::runtime_error: replaced")) << log.lines[0];
}

TEST(DeferredErrors, TakingTheFailureOutHandlesIt) {
  ErrorLog log;
  {
    Deferred<int> d;
    d.errback(ConnectionLost());
    (void)failureResultOf(d);
  }
  EXPECT_TRUE(log.lines.empty());
}

}  // namespace
}  // namespace spindle
