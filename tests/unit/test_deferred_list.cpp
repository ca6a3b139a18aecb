// DeferredList in its three modes, and gatherResults.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "spindle/defer_list.hpp"
#include "test_deferred_helpers.hpp"

namespace spindle {
namespace {

using testing::ErrorLog;
using testing::failureResultOf;
using testing::hasResult;
using testing::successResultOf;

TEST(DeferredList, FiresWithEveryOutcomeInInputOrder) {
  std::vector<Deferred<std::string>> ds(3);
  auto list = DeferredList(ds, {.consumeErrors = true});
  ds[2].callback("c");
  ds[0].callback("a");
  EXPECT_FALSE(hasResult(list));
  ds[1].errback(ConnectionRefusedError());
  std::vector<Result<std::string>> results = successResultOf(list);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].value(), "a");
  EXPECT_TRUE(results[1].failed());
  EXPECT_TRUE(results[1].failure().check<ConnectionRefusedError>());
  EXPECT_EQ(results[2].value(), "c");
}

TEST(DeferredList, TakesInputsThatHaveAlreadyFired) {
  auto list = DeferredList(std::vector<Deferred<int>>{succeed(1), succeed(2)});
  auto results = successResultOf(list);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].value() + results[1].value(), 3);
}

TEST(DeferredList, AnEmptyListFiresAtOnce) {
  auto list = DeferredList(std::vector<Deferred<int>>{});
  EXPECT_TRUE(successResultOf(list).empty());
}

TEST(DeferredList, InputsGiveTheirResultsAway) {
  Deferred<int> d;
  auto list = DeferredList(std::vector<Deferred<int>>{d});
  d.callback(1);
  EXPECT_THROW(d.addCallback([](int v) { return v; }), std::logic_error)
      << "the input's chain now yields nothing";
  EXPECT_EQ(successResultOf(list)[0].value(), 1);
}

TEST(DeferredList, WorksOnVoidDeferreds) {
  std::vector<Deferred<>> ds(2);
  auto list = DeferredList(ds);
  ds[0].callback();
  ds[1].callback();
  auto results = successResultOf(list);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].succeeded() && results[1].succeeded());
}

TEST(DeferredList, FireOnOneErrbackFailsAtTheFirstFailure) {
  std::vector<Deferred<int>> ds(3);
  auto list = DeferredList(ds, {.fireOnOneErrback = true, .consumeErrors = true});
  ds[0].callback(1);
  ds[2].errback(ConnectionDone());
  Failure f = failureResultOf(list);
  ASSERT_TRUE(f.check<FirstError>());
  try {
    f.raiseException();
  } catch (const FirstError& e) {
    EXPECT_EQ(e.index(), 2u);
    EXPECT_TRUE(e.subFailure().check<ConnectionDone>());
  }
  EXPECT_NO_THROW(ds[1].errback(ConnectionLost())) << "later inputs are ignored";
}

TEST(DeferredList, FireOnOneErrbackStillWaitsForAllWhenNoneFails) {
  std::vector<Deferred<int>> ds(2);
  auto list = DeferredList(ds, {.fireOnOneErrback = true});
  ds[0].callback(1);
  EXPECT_FALSE(hasResult(list));
  ds[1].callback(2);
  EXPECT_EQ(successResultOf(list).size(), 2u);
}

TEST(DeferredList, FireOnOneCallbackFiresWithTheFirstSuccessAndItsIndex) {
  std::vector<Deferred<std::string>> ds(3);
  auto first = DeferredList(ds, fireOnOneCallback, {.consumeErrors = true});
  ds[0].errback(ConnectionRefusedError());
  EXPECT_FALSE(hasResult(first));
  ds[2].callback("from the third");
  FirstResult<std::string> r = successResultOf(first);
  EXPECT_EQ(r.value, "from the third");
  EXPECT_EQ(r.index, 2u);
  EXPECT_NO_THROW(ds[1].callback("ignored"));
}

TEST(DeferredList, FireOnOneCallbackFailsWhenNoneSucceeds) {
  std::vector<Deferred<int>> ds(2);
  auto first = DeferredList(ds, fireOnOneCallback, {.consumeErrors = true});
  ds[1].errback(ConnectionLost());
  ds[0].errback(ConnectionRefusedError());
  Failure f = failureResultOf(first);
  ASSERT_TRUE(f.check<AllFailedError>());
  try {
    f.raiseException();
  } catch (const AllFailedError& e) {
    ASSERT_EQ(e.failures().size(), 2u);
    EXPECT_TRUE(e.failures()[0].check<ConnectionRefusedError>()) << "in input order";
    EXPECT_TRUE(e.failures()[1].check<ConnectionLost>());
  }
  EXPECT_TRUE(failureResultOf(DeferredList(std::vector<Deferred<int>>{}, fireOnOneCallback))
                  .check<AllFailedError>());
}

TEST(DeferredList, FireOnOneCallbackAndFireOnOneErrback) {
  std::vector<Deferred<>> ds(2);
  auto first =
      DeferredList(ds, fireOnOneCallback, {.fireOnOneErrback = true, .consumeErrors = true});
  ds[1].errback(ConnectionLost());
  Failure f = failureResultOf(first);
  EXPECT_TRUE(f.check<FirstError>());
  std::vector<Deferred<>> es(2);
  auto second = DeferredList(es, fireOnOneCallback, {.fireOnOneErrback = true});
  es[1].callback();
  EXPECT_EQ(successResultOf(second).index, 1u);
}

TEST(DeferredList, CancellingTheListCancelsThePendingInputs) {
  int cancels = 0;
  std::vector<Deferred<int>> ds{Deferred<int>([&] { ++cancels; }),
                                Deferred<int>([&] { ++cancels; })};
  ds[0].callback(5);
  auto list = DeferredList(ds, {.consumeErrors = true});
  list.cancel();
  EXPECT_EQ(cancels, 1) << "only the one still pending";
  auto results = successResultOf(list);
  EXPECT_EQ(results[0].value(), 5);
  EXPECT_TRUE(results[1].failure().check<CancelledError>());
}

TEST(DeferredList, CancellingAfterAnInputWasDroppedStillFires) {
  std::vector<Deferred<int>> ds(2);
  auto list = DeferredList(ds);
  ds.pop_back();  // nobody can fire this input any more
  ds[0].callback(1);
  list.cancel();
  EXPECT_TRUE(failureResultOf(list).check<CancelledError>());
}

TEST(GatherResults, FiresWithTheValuesInOrder) {
  std::vector<Deferred<int>> ds(3);
  auto all = gatherResults(ds);
  ds[1].callback(20);
  ds[2].callback(30);
  ds[0].callback(10);
  EXPECT_EQ(successResultOf(all), (std::vector<int>{10, 20, 30}));
}

TEST(GatherResults, FailsWithTheFirstErrorAndConsumesTheInputs) {
  ErrorLog log;
  {
    std::vector<Deferred<int>> ds(3);
    auto all = gatherResults(ds);
    ds[1].errback(ConnectionLost());
    ds[0].errback(ConnectionRefusedError());
    Failure f = failureResultOf(all);
    ASSERT_TRUE(f.check<FirstError>());
    try {
      f.raiseException();
    } catch (const FirstError& e) {
      EXPECT_EQ(e.index(), 1u);
      EXPECT_TRUE(e.subFailure().check<ConnectionLost>());
    }
  }
  EXPECT_EQ(log.unhandled(), 0u) << "the inputs' errors were consumed: "
                                 << ::testing::PrintToString(log.lines);
}

TEST(GatherResults, OfVoidDeferreds) {
  std::vector<Deferred<>> ds(2);
  Deferred<> all = gatherResults(ds);
  ds[0].callback();
  EXPECT_FALSE(hasResult(all));
  ds[1].callback();
  EXPECT_TRUE(hasResult(all));
}

TEST(GatherResults, OfAnEmptyList) {
  EXPECT_TRUE(successResultOf(gatherResults(std::vector<Deferred<int>>{})).empty());
}

}  // namespace
}  // namespace spindle
