// The slow poetry server's idle timeout, on a string transport whose "kernel" takes bytes only
// when the test says so, and a fake clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include <spindle/testing.hpp>

#include "poetry.hpp"

namespace {

using poetry::ServeOptions;
using poetry::SlowPoetryProtocol;

/// Writes pile up in bufferedSize() until take() lets the kernel have some; the producer is
/// paused above `high` and resumed once take() drains to `low`, as the TCP transport does at its
/// water marks. With `kernelTakesAll` every write leaves at once (a client that keeps up).
struct KernelTransport : spindle::testing::StringTransport {
  std::size_t buffered = 0;
  std::size_t high = 64 * 1024, low = 16 * 1024;
  bool kernelTakesAll = false;
  bool paused = false;

  std::size_t bufferedSize() const override { return buffered; }
  void write(std::string_view data) override {
    StringTransport::write(data);
    if (kernelTakesAll) return;
    buffered += data.size();
    if (!paused && buffered > high && producer()) {
      paused = true;
      producer()->pauseProducing();
    }
  }
  void take(std::size_t n) {
    buffered -= std::min(n, buffered);
    if (paused && buffered <= low && producer()) {
      paused = false;
      producer()->resumeProducing();
    }
  }
};

class PoetryServerIdle : public ::testing::Test {
 protected:
  std::unique_ptr<SlowPoetryProtocol> serve(ServeOptions options, std::size_t poemSize) {
    auto p = std::make_unique<SlowPoetryProtocol>(
        clock, std::make_shared<const std::string>(std::string(poemSize, 'p')), options);
    p->onDropped = [this](const spindle::Address& peer, const spindle::Failure& why) {
      drops.push_back({peer, why});
      droppedAt = clock.seconds();
    };
    spindle::testing::connect(*p, transport);
    return p;
  }
  // Advances the clock in steps of `step` for `seconds`, calling `each` after every step.
  void run(
      double seconds, double step, const std::function<void()>& each = [] {}) {
    for (double t = 0; t < seconds - 1e-9; t += step) {
      clock.advance(step);
      each();
    }
  }

  spindle::testing::Clock clock;
  KernelTransport transport;
  std::vector<std::pair<spindle::Address, spindle::Failure>> drops;
  std::optional<double> droppedAt;
};

TEST_F(PoetryServerIdle, AClientThatNeverReadsIsDroppedAfterTheTimeout) {
  auto p = serve({0, 10, 2.0}, 1 << 20);
  ASSERT_EQ(transport.bufferedSize(), 1u << 20) << "the whole poem waits in the transport";
  EXPECT_TRUE(p->watchingIdle());
  run(1.5, 0.5);
  EXPECT_TRUE(drops.empty()) << "dropped before the timeout";
  EXPECT_FALSE(transport.aborted());
  clock.advance(0.5);
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(droppedAt, 2.0);
  EXPECT_EQ(drops[0].first, transport.getPeer());
  EXPECT_TRUE(drops[0].second.check<spindle::IdleTimeoutError>());
  EXPECT_EQ(drops[0].second.getErrorMessage(), "Connection was idle for 2 seconds");
  EXPECT_TRUE(transport.aborted()) << "its buffered bytes can never be delivered";
  p->connectionLost(spindle::Failure(spindle::ConnectionAborted()));
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST_F(PoetryServerIdle, ASlowReaderThatKeepsTakingBytesIsKept) {
  auto p = serve({0, 10, 1.0}, 4 << 20);
  double lastTake = 0;
  // 20 KB every half second: far below the transport's pace, but progress within every timeout.
  run(20, 0.25, [&] {
    if (static_cast<int>(clock.seconds() * 4) % 2 == 0) {
      transport.take(20000);
      lastTake = clock.seconds();
    }
  });
  EXPECT_TRUE(drops.empty());
  EXPECT_EQ(transport.bufferedSize(), (4u << 20) - 40 * 20000u) << "20 KB at 40 looks";
  EXPECT_FALSE(transport.aborted());
  // Then it stops reading: dropped a whole timeout after the last progress seen, and no more
  // than a quarter of a timeout later.
  run(1.0, 0.25);
  EXPECT_TRUE(drops.empty());
  run(0.25, 0.25);
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_GE(*droppedAt - lastTake, 1.0);
  EXPECT_LE(*droppedAt - lastTake, 1.25 + 1e-9);
}

TEST_F(PoetryServerIdle, AClientThatNeverReadsTheEndOfItsPoemIsDroppedToo) {
  // 100 KB, written at once; loseConnection() then waits for a flush that never comes.
  auto p = serve({0, 10, 1.0}, 100 * 1024);
  ASSERT_EQ(p->sent(), 100u * 1024);
  ASSERT_TRUE(transport.disconnecting());
  EXPECT_TRUE(p->watchingIdle()) << "a closing connection can still be stuck";
  run(1.0, 0.25);
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_TRUE(transport.aborted());
}

TEST_F(PoetryServerIdle, ASlowScheduleIsNotIdlenessWhileTheKernelTakesEveryChunk) {
  transport.kernelTakesAll = true;
  // A chunk every 10 seconds, ten times the timeout: the buffer is empty in between, so nothing
  // waits on the client.
  auto p = serve({10, 1, 1.0}, 46);
  run(60, 0.25);
  EXPECT_TRUE(drops.empty());
  EXPECT_EQ(p->sent(), 7u);
  EXPECT_TRUE(p->watchingIdle());
}

TEST_F(PoetryServerIdle, ASlowScheduleToAClientThatStopsReadingIsDropped) {
  // The kernel takes nothing: every chunk stays buffered, so sent() - bufferedSize() stands still
  // while the server keeps writing.
  auto p = serve({0.1, 10, 1.0}, 10000);
  run(0.75, 0.25);
  EXPECT_TRUE(drops.empty());
  clock.advance(0.25);
  ASSERT_EQ(drops.size(), 1u);
  std::size_t sent = transport.value().size();
  clock.advance(1);
  EXPECT_EQ(transport.value().size(), sent) << "the schedule stopped with the drop";
}

TEST_F(PoetryServerIdle, APoemThatWentOutAtOnceIsNotWatched) {
  transport.kernelTakesAll = true;
  auto p = serve({0, 10, 1.0}, 1000);
  EXPECT_TRUE(transport.disconnecting());
  EXPECT_FALSE(p->watchingIdle()) << "the connection closes in this step; no timer needed";
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST_F(PoetryServerIdle, WithoutATimeoutNobodyIsDropped) {
  auto p = serve({0, 10, std::nullopt}, 1 << 20);
  EXPECT_FALSE(p->watchingIdle());
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  run(100, 10);
  EXPECT_TRUE(drops.empty());
  EXPECT_FALSE(transport.aborted());
}

TEST_F(PoetryServerIdle, ConnectionLostStopsTheWatch) {
  auto p = serve({0, 10, 1.0}, 1 << 20);
  p->connectionLost(spindle::Failure(spindle::ConnectionLost()));
  EXPECT_FALSE(p->watchingIdle());
  EXPECT_TRUE(clock.getDelayedCalls().empty());
  p.reset();
  clock.advance(5);
  EXPECT_TRUE(drops.empty());
}

TEST(SlowPoetryFactoryIdle, EveryProtocolReportsDropsToTheFactory) {
  spindle::testing::Clock clock;
  auto poem = std::make_shared<const std::string>(std::string(1 << 20, 'p'));
  poetry::SlowPoetryFactory factory(clock, poem, {0, 10, 0.5});
  std::vector<spindle::Address> dropped;
  factory.onDropped = [&](const spindle::Address& peer, const spindle::Failure& why) {
    EXPECT_TRUE(why.check<spindle::IdleTimeoutError>());
    dropped.push_back(peer);
  };
  KernelTransport a, b;
  auto pa = factory.buildProtocol(*spindle::Address::fromIp("127.0.0.1", 1111));
  auto pb = factory.buildProtocol(*spindle::Address::fromIp("127.0.0.1", 2222));
  spindle::testing::connect(*pa, a);
  spindle::testing::connect(*pb, b);
  for (int i = 0; i < 4; ++i) {
    clock.advance(0.125);
    b.take(70000);  // b reads; a does not
  }
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_TRUE(a.aborted());
  EXPECT_FALSE(b.aborted());
}

}  // namespace
