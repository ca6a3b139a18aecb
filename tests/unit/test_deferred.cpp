// Deferred<T>: the callback chain, its types, its error path, and chains that wait on others.
#include <array>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "spindle/defer.hpp"
#include "test_deferred_helpers.hpp"

namespace spindle {
namespace {

using testing::ErrorLog;
using testing::failureResultOf;
using testing::hasResult;
using testing::successResultOf;

TEST(Deferred, CallbackRunsWhenFired) {
  Deferred<int> d;
  std::vector<int> seen;
  d.addCallback([&](int v) { seen.push_back(v); });
  EXPECT_TRUE(seen.empty());
  EXPECT_FALSE(d.called());
  d.callback(7);
  EXPECT_TRUE(d.called());
  EXPECT_EQ(seen, std::vector<int>{7});
}

TEST(Deferred, CallbackAddedAfterFiringRunsAtOnce) {
  Deferred<int> d;
  d.callback(3);
  int seen = 0;
  d.addCallback([&](int v) { seen = v; });
  EXPECT_EQ(seen, 3);
}

TEST(Deferred, EachCallbackGetsThePreviousResult) {
  Deferred<int> d;
  std::vector<int> seen;
  d.addCallback([&](int v) {
    seen.push_back(v);
    return v + 1;
  });
  d.addCallback([&](int v) {
    seen.push_back(v);
    return v * 10;
  });
  d.callback(1);
  EXPECT_EQ(seen, (std::vector<int>{1, 2}));
  EXPECT_EQ(successResultOf(d), 20);
}

TEST(Deferred, CallbacksChangeTheChainsType) {
  Deferred<std::string> poem;
  Deferred<std::size_t> length = poem.addCallback([](std::string p) { return p.size(); });
  Deferred<std::string> text =
      length.addCallback([](std::size_t n) { return std::to_string(n) + " chars"; });
  poem.callback("Once upon a midnight dreary");
  EXPECT_EQ(successResultOf(text), "27 chars");
}

TEST(Deferred, VoidChains) {
  Deferred<> d;
  int calls = 0;
  Deferred<int> n = d.addCallback([&] {
    ++calls;
    return 5;
  });
  Deferred<void> back = n.addCallback([&](int v) { calls += v; });
  d.callback();
  EXPECT_EQ(calls, 6);
  EXPECT_TRUE(hasResult(back));
  back.addCallback([&] { ++calls; });
  EXPECT_EQ(calls, 7);
}

TEST(Deferred, CallbacksMayTakeValueConstRefRvalueOrLvalueRef) {
  Deferred<std::string> d;
  std::string seen;
  auto a = d.addCallback([&](const std::string& s) {
    seen = s;
    return s + "b";
  });
  auto b = a.addCallback([](std::string&& s) { return s + "c"; });
  auto c = b.addCallback([](std::string& s) {
    s += "d";
    return s;
  });
  d.callback("a");
  EXPECT_EQ(seen, "a");
  EXPECT_EQ(successResultOf(c), "abcd");
}

TEST(Deferred, MoveOnlyValuesFlowThroughTheChain) {
  Deferred<std::unique_ptr<int>> d;
  auto doubled = d.addCallback([](std::unique_ptr<int> p) {
    *p *= 2;
    return p;
  });
  d.callback(std::make_unique<int>(21));
  EXPECT_EQ(*successResultOf(doubled), 42);
}

TEST(Deferred, LargeValuesAndCallbacksAreStoredOffTheChain) {
  std::array<int, 64> big{};
  big[63] = 7;
  Deferred<std::array<int, 64>> d;
  auto sum = d.addCallback([big](std::array<int, 64> a) { return a[63] + big[63]; });
  d.callback(big);
  EXPECT_EQ(successResultOf(sum), 14);
}

TEST(Deferred, ThrowingCallbackTurnsTheChainToItsErrorPath) {
  Deferred<int> d;
  bool skipped = true;
  d.addCallback([](int) -> int { throw std::runtime_error("bad poem"); });  // line A
  const unsigned lineA = __LINE__ - 1;
  d.addCallback([&](int v) {
    skipped = false;
    return v;
  });
  std::optional<Failure> got;
  d.addErrback([&](const Failure& f) {
    got = f;
    return 0;
  });
  d.callback(1);
  EXPECT_TRUE(skipped);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->check<std::runtime_error>());
  EXPECT_EQ(got->getErrorMessage(), "bad poem");
  EXPECT_EQ(got->where().line(), lineA) << "a callback's exception comes from where it was added";
  EXPECT_EQ(successResultOf(d), 0);
}

TEST(Deferred, ErrbackRecoversWithAValue) {
  Deferred<std::string> d;
  auto recovered = d.addErrback([](const Failure& f) {
                      return "recovered: " + f.getErrorMessage();
                    }).addCallback([](std::string s) { return s + "!"; });
  d.errback(ConnectionRefusedError());
  EXPECT_EQ(successResultOf(recovered).rfind("recovered: Connection was refused", 0), 0u);
}

TEST(Deferred, ErrbackIsSkippedOnSuccess) {
  Deferred<int> d;
  bool called = false;
  d.addErrback([&](Failure) {
    called = true;
    return 0;
  });
  d.callback(4);
  EXPECT_FALSE(called);
  EXPECT_EQ(successResultOf(d), 4);
}

TEST(Deferred, ErrbackPassesTheErrorOnByReturningAFailure) {
  Deferred<int> d;
  d.addErrback(
      [](const Failure& f) { return Failure(std::logic_error("wrapped " + f.typeName())); });
  d.errback(ConnectionDone());
  Failure f = failureResultOf(d);
  EXPECT_TRUE(f.check<std::logic_error>());
  EXPECT_EQ(f.getErrorMessage(), "wrapped spindle::ConnectionDone");
}

TEST(Deferred, TrapPassesOnWhatItDoesNotHandleKeepingTheOriginal) {
  Deferred<int> d;
  d.addErrback([](const Failure& f) {
    f.trap<ConnectionDone>();
    return 1;
  });
  Failure original{ConnectionLost()};
  d.errback(original);
  Failure f = failureResultOf(d);
  EXPECT_EQ(f.value(), original.value()) << "the same exception object";
  EXPECT_EQ(f.where().line(), original.where().line()) << "and the same origin";

  Deferred<int> e;
  e.addErrback([](const Failure& f) {
    f.trap<ConnectionClosed>();
    return 2;
  });
  e.errback(ConnectionLost());
  EXPECT_EQ(successResultOf(e), 2);
}

TEST(Deferred, AddCallbacksKeepsTheErrbackAwayFromTheCallbacksError) {
  Deferred<int> d;
  bool errbackRan = false;
  auto r = d.addCallbacks([](int) -> int { throw std::runtime_error("cb"); },
                          [&](const Failure&) {
                            errbackRan = true;
                            return 0;
                          });
  d.callback(1);
  EXPECT_FALSE(errbackRan);
  EXPECT_TRUE(failureResultOf(r).check<std::runtime_error>());

  Deferred<int> e;
  auto s = e.addCallbacks([](int v) { return std::to_string(v); },
                          [](const Failure& f) { return f.typeName(); });
  e.errback(ConnectionDone());
  EXPECT_EQ(successResultOf(s), "spindle::ConnectionDone");
}

TEST(Deferred, AddBothSeesSuccessAndFailure) {
  auto describe = [](const Result<int>& r) {
    return r.succeeded() ? "value " + std::to_string(r.value()) : "error " + r.failure().typeName();
  };
  Deferred<int> ok;
  auto a = ok.addBoth(describe);
  ok.callback(9);
  EXPECT_EQ(successResultOf(a), "value 9");
  Deferred<int> bad;
  auto b = bad.addBoth(describe);
  bad.errback(ConnectionDone());
  EXPECT_EQ(successResultOf(b), "error spindle::ConnectionDone");
}

TEST(Deferred, AddBothMayPassTheResultOnUnchanged) {
  int cleanups = 0;
  auto cleanup = [&](Result<int> r) {
    ++cleanups;
    return r;
  };
  Deferred<int> ok;
  ok.addBoth(cleanup);
  ok.callback(5);
  Deferred<int> bad;
  bad.addBoth(cleanup);
  bad.errback(ConnectionDone());
  EXPECT_EQ(cleanups, 2);
  EXPECT_EQ(successResultOf(ok), 5);
  EXPECT_TRUE(failureResultOf(bad).check<ConnectionDone>());
}

TEST(Deferred, ACallbackMayChooseItsPathWithAResult) {
  Deferred<int> d;
  auto r = d.addCallback([](int v) -> Result<std::string> {
    if (v < 0) return Failure(std::invalid_argument("negative"));
    return std::to_string(v);
  });
  d.callback(-1);
  EXPECT_TRUE(failureResultOf(r).check<std::invalid_argument>());
}

TEST(Deferred, ReturningAnUnfiredDeferredPausesTheChain) {
  Deferred<int> outer;
  Deferred<std::string> inner;
  std::vector<std::string> seen;
  Deferred<std::size_t> n =
      outer.addCallback([&](int) { return inner; }).addCallback([&](std::string s) {
        seen.push_back(s);
        return s.size();
      });
  outer.callback(1);
  EXPECT_TRUE(outer.called());
  EXPECT_FALSE(hasResult(n)) << "paused while the inner one has no result";
  EXPECT_TRUE(seen.empty());
  inner.callback("poem");
  EXPECT_EQ(seen, std::vector<std::string>{"poem"});
  EXPECT_EQ(successResultOf(n), 4u);
}

TEST(Deferred, ReturningAFiredDeferredContinuesAtOnce) {
  Deferred<int> d;
  auto r = d.addCallback([](int v) { return succeed(v * 2); });
  d.callback(21);
  EXPECT_EQ(successResultOf(r), 42);
}

TEST(Deferred, TheInnerDeferredsFailureContinuesTheOuterChain) {
  Deferred<int> outer, inner;
  outer.addCallback([&](int) { return inner; });
  outer.callback(0);
  inner.errback(ConnectionDone());
  EXPECT_TRUE(failureResultOf(outer).check<ConnectionDone>());
}

TEST(Deferred, AnErrbackMayRecoverWithADeferred) {
  Deferred<int> d, later;
  d.addErrback([&](const Failure&) { return later; });
  d.errback(ConnectionDone());
  EXPECT_FALSE(hasResult(d));
  later.callback(11);
  EXPECT_EQ(successResultOf(d), 11);
}

TEST(Deferred, NestedChainsUnwindInOrder) {
  Deferred<int> a, b, c;
  std::vector<std::string> order;
  a.addCallback([&](int) {
    order.push_back("a1");
    return b;
  });
  a.addCallback([&](int v) {
    order.push_back("a2:" + std::to_string(v));
    return v;
  });
  b.addCallback([&](int) {
    order.push_back("b1");
    return c;
  });
  a.callback(0);
  b.callback(0);
  EXPECT_EQ(order, (std::vector<std::string>{"a1", "b1"}));
  c.callback(99);
  EXPECT_EQ(order, (std::vector<std::string>{"a1", "b1", "a2:99"}));
}

TEST(Deferred, ALongLineOfWaitingDeferredsUnwindsWithoutRecursion) {
  constexpr int kDepth = 100000;
  std::vector<Deferred<int>> line(kDepth + 1);
  for (int i = kDepth - 1; i >= 0; --i) {
    line[i].addCallback([next = line[i + 1]](int) { return next; });
    line[i].callback(0);
  }
  line[kDepth].callback(7);
  EXPECT_EQ(successResultOf(line[0]), 7);
}

TEST(Deferred, FiringTwiceThrowsAlreadyCalled) {
  Deferred<int> d;
  d.callback(1);
  EXPECT_THROW(d.callback(2), AlreadyCalled);
  EXPECT_THROW(d.errback(ConnectionDone()), AlreadyCalled);
  Deferred<> e;
  e.errback(ConnectionDone());
  EXPECT_THROW(e.callback(), AlreadyCalled);
  (void)failureResultOf(e);
  EXPECT_EQ(successResultOf(d), 1) << "the first result stands";
}

TEST(Deferred, ACallbackAddingToItsOwnChainRunsItNext) {
  Deferred<int> d;
  std::vector<int> order;
  d.addCallback([&](int v) {
    order.push_back(1);
    d.addCallback([&](int w) {
      order.push_back(3);
      return w;
    });
    return v;
  });
  d.addCallback([&](int v) {
    order.push_back(2);
    return v;
  });
  d.callback(0);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(Deferred, ACallbackMayDropTheLastHandle) {
  // The only handle lives in `holder`; the first callback destroys it, while callback() is
  // still running on it.
  auto holder = std::make_unique<std::optional<Deferred<int>>>(std::in_place);
  std::vector<int> seen;
  (*holder)->addCallback([&](int v) {
    holder->reset();
    seen.push_back(v);
    return v + 1;
  });
  (*holder)->addCallback([&](int v) {
    seen.push_back(v);
    return v;
  });
  (*holder)->callback(1);
  EXPECT_FALSE(holder->has_value());
  EXPECT_EQ(seen, (std::vector<int>{1, 2}));
}

TEST(Deferred, ACallbackThatFiresAnotherWhichResumesThisOne) {
  Deferred<int> a, b;
  std::vector<std::string> order;
  // b's callback returns a, so b waits on a; a's first callback fires b.
  b.addCallback([&](int) {
    order.push_back("b waits on a");
    return a;
  });
  b.addCallback([&](int v) { order.push_back("b resumed with " + std::to_string(v)); });
  a.addCallback([&](int v) {
    order.push_back("a fires b");
    b.callback(0);
    return v + 1;
  });
  a.callback(1);
  EXPECT_EQ(order, (std::vector<std::string>{"a fires b", "b waits on a", "b resumed with 2"}));
}

TEST(Deferred, ACallbackReturningItsOwnDeferredFails) {
  Deferred<int> d;
  d.addCallback([&](int) { return d; });
  d.callback(0);
  EXPECT_TRUE(failureResultOf(d).check<std::logic_error>());
}

TEST(Deferred, AStaleHandleIsRefused) {
  Deferred<int> d;
  Deferred<std::string> s = d.addCallback([](int v) { return std::to_string(v); });
  EXPECT_THROW(d.addCallback([](int v) { return v; }), std::logic_error)
      << "the chain now yields std::string";
  EXPECT_THROW(s.callback("x"), std::logic_error) << "the chain starts with int";
  d.callback(1);
  EXPECT_EQ(successResultOf(s), "1");
}

TEST(Deferred, AMovedFromHandleIsRefused) {
  Deferred<int> d;
  Deferred<int> e = std::move(d);
  EXPECT_THROW(d.callback(1), std::logic_error);  // NOLINT(bugprone-use-after-move)
  e.callback(1);
}

TEST(Deferred, SucceedAndFail) {
  EXPECT_EQ(successResultOf(succeed(std::string("x"))), "x");
  EXPECT_TRUE(hasResult(succeed()));
  EXPECT_TRUE(failureResultOf(fail<int>(ConnectionDone())).check<ConnectionDone>());
  EXPECT_TRUE(failureResultOf(fail(Failure(ConnectionLost()))).check<ConnectionLost>());
}

TEST(Deferred, MaybeDeferredWrapsWhateverTheFunctionGives) {
  EXPECT_EQ(successResultOf(maybeDeferred([] { return 3; })), 3);
  EXPECT_TRUE(hasResult(maybeDeferred([] {})));
  const unsigned line = __LINE__ + 1;
  Failure f = failureResultOf(maybeDeferred([]() -> int { throw std::runtime_error("no"); }));
  EXPECT_TRUE(f.check<std::runtime_error>());
  EXPECT_EQ(f.where().line(), line);
  Deferred<int> pending;
  Deferred<int> same = maybeDeferred([&] { return pending; });
  EXPECT_FALSE(hasResult(same));
  pending.callback(8);
  EXPECT_EQ(successResultOf(same), 8);
  EXPECT_TRUE(failureResultOf(maybeDeferred([]() -> Result<int> {
                return Failure(ConnectionDone());
              })).check<ConnectionDone>());
  EXPECT_TRUE(failureResultOf(maybeDeferred([]() -> Deferred<int> {
                throw ConnectionLost();
              })).check<ConnectionLost>());
}

TEST(Deferred, ChainDeferredPassesTheResultOn) {
  Deferred<int> a, b;
  a.chainDeferred(b);
  a.callback(4);
  EXPECT_EQ(successResultOf(b), 4);
  Deferred<int> c, e;
  Deferred<void> rest = c.chainDeferred(e);
  c.errback(ConnectionDone());
  EXPECT_TRUE(failureResultOf(e).check<ConnectionDone>());
  EXPECT_TRUE(hasResult(rest)) << "the first chain yields nothing after handing its result on";
}

TEST(Deferred, ErrbackWithAnExceptionRecordsTheCaller) {
  Deferred<int> d;
  d.errback(DNSLookupError("nowhere"));
  const unsigned line = __LINE__ - 1;
  Failure f = failureResultOf(d);
  EXPECT_TRUE(f.check<ConnectError>());
  EXPECT_EQ(f.where().line(), line);
}

}  // namespace
}  // namespace spindle
