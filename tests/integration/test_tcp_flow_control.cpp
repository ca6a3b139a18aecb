// pauseProducing/resumeProducing/stopProducing and bufferedSize on real TCP transports.
// Checking that nothing arrives while paused needs a quiet period; it is a short timer (not a
// wait for an event), and the test never depends on it being long enough to pass.
#include "support.hpp"

namespace spindle::test {
namespace {

using TcpFlowControl = TcpTest;

constexpr double kQuiet = 0.1;  // how long a paused transport is watched for stray deliveries

TEST_F(TcpFlowControl, PausedTransportDeliversNothingUntilResumed) {
  size_t seenWhilePaused = 99;
  server->hooks.made = [&](Recorder& p) {
    p.transport->pauseProducing();
    auto rec = p.rec;
    reactor.callLater(kQuiet, [&, rec] {
      seenWhilePaused = rec->data.size();
      rec->transport->resumeProducing();
    });
  };
  server->hooks.data = [&](Recorder& p, std::string_view) {
    if (p.rec->data == "hello") reactor.stop();
  };
  client->hooks.made = [](Recorder& p) { p.transport->write("hello"); };
  start();
  EXPECT_EQ(seenWhilePaused, 0u);
  EXPECT_EQ(serverConn().data, "hello");
}

TEST_F(TcpFlowControl, PauseInsideDataReceivedTakesEffectForTheNextRead) {
  const std::string payload = makePayload(4 << 20);
  size_t atPause = 0, afterQuiet = 0;
  bool paused = false;
  server->hooks.data = [&](Recorder& p, std::string_view) {
    if (paused) return;
    paused = true;
    p.transport->pauseProducing();
    atPause = p.rec->data.size();
    auto rec = p.rec;
    reactor.callLater(kQuiet, [&, rec] {
      afterQuiet = rec->data.size();
      rec->transport->resumeProducing();
    });
  };
  client->hooks.made = [&](Recorder& p) {
    p.transport->write(payload);
    p.transport->loseConnection();
  };
  stopAfterLosses(2);
  start();
  EXPECT_LT(atPause, payload.size());
  EXPECT_EQ(afterQuiet, atPause) << "data was delivered while paused";
  EXPECT_TRUE(serverConn().data == payload) << "everything arrives after resuming, in order";
  EXPECT_TRUE(serverConn().reason->check<ConnectionDone>());
}

TEST_F(TcpFlowControl, WritesBufferWhileThePeerIsPausedAndDrainAfter) {
  const std::string payload = makePayload(32 << 20);
  size_t bufferedAfterWrite = 0;
  server->hooks.made = [&](Recorder& p) {
    p.transport->pauseProducing();
    auto rec = p.rec;
    reactor.callLater(kQuiet, [rec] { rec->transport->resumeProducing(); });
  };
  std::function<void(std::shared_ptr<ConnRecord>)> waitDrained =
      [&](std::shared_ptr<ConnRecord> rec) {
        if (rec->transport->bufferedSize() == 0) {
          rec->transport->loseConnection();
          return;
        }
        reactor.callLater(0.005, [&waitDrained, rec] { waitDrained(rec); });
      };
  client->hooks.made = [&](Recorder& p) {
    p.transport->write(payload);
    bufferedAfterWrite = p.transport->bufferedSize();
    waitDrained(p.rec);
  };
  stopAfterLosses(2);
  start();
  EXPECT_GT(bufferedAfterWrite, 0u);
  EXPECT_LE(bufferedAfterWrite, payload.size());
  EXPECT_TRUE(serverConn().data == payload);
}

TEST_F(TcpFlowControl, StopProducingClosesTheConnection) {
  server->hooks.made = [](Recorder& p) { p.transport->stopProducing(); };
  client->hooks.made = [](Recorder& p) { p.transport->write("ignored"); };
  stopAfterLosses(2);
  start();
  EXPECT_EQ(serverConn().lostCount, 1);
  EXPECT_EQ(serverConn().data, "");
  EXPECT_EQ(clientConn().lostCount, 1);
}

}  // namespace
}  // namespace spindle::test
