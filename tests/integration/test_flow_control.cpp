// Flow control over loopback: a push producer streams to a slow reader; the write buffer stays
// within the high water mark plus one chunk, and every byte arrives in order. And a pull
// producer, and the producer hearing stopProducing when the connection goes.
#include <cstdlib>
#include <cstring>

#include "support.hpp"

using namespace spindle;
using namespace spindle::test;

namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kHigh = 256 * 1024;
constexpr std::size_t kLow = 64 * 1024;

/// The stream's bytes are chunks of a fixed pattern stamped with the chunk's number, so the
/// reader can check every byte and its position with memcmp.
struct Pattern {
  std::string base;
  Pattern() : base(kChunk, '\0') {
    for (std::size_t i = 0; i < kChunk; ++i)
      base[i] = static_cast<char>((i * 131 + 7) & 0xff);
  }
  void chunk(std::uint64_t k, std::string& out) const {
    out = base;
    std::memcpy(out.data(), &k, sizeof k);
  }
};

std::size_t streamBytes() {
  const char* env = std::getenv("SPINDLE_FLOW_TEST_MIB");
  return (env ? std::strtoull(env, nullptr, 10) : 1024) * 1024 * 1024;
}

struct StreamStats {
  std::size_t maxBuffered = 0;
  int pauses = 0;
};

struct Streamer : Protocol, Producer {
  const Pattern& pattern;
  std::size_t total;
  StreamStats& stats;
  std::size_t sent = 0;
  bool paused = false;
  std::string chunk;
  Streamer(const Pattern& p, std::size_t t, StreamStats& s) : pattern(p), total(t), stats(s) {}

  void connectionMade() override {
    transport->setWriteBufferWaterMarks(kHigh, kLow);
    transport->registerProducer(*this, true);
    resumeProducing();
  }
  void pauseProducing() override {
    paused = true;
    ++stats.pauses;
  }
  void resumeProducing() override {
    paused = false;
    while (!paused && sent < total) {
      pattern.chunk(sent / kChunk, chunk);
      transport->write(chunk);
      sent += kChunk;
      stats.maxBuffered = std::max(stats.maxBuffered, transport->bufferedSize());
    }
    if (sent >= total && connected) {
      transport->unregisterProducer();
      transport->loseConnection();
    }
  }
  void stopProducing() override {}
};

struct SlowReader : Protocol {
  Reactor& reactor;
  const Pattern& pattern;
  std::size_t received = 0;
  std::size_t sincePause = 0;
  bool intact = true;
  std::string expected;
  SlowReader(Reactor& r, const Pattern& p) : reactor(r), pattern(p) {}

  void dataReceived(std::string_view data) override {
    while (!data.empty() && intact) {
      std::size_t offset = received % kChunk;
      if (offset == 0 || expected.empty()) pattern.chunk(received / kChunk, expected);
      std::size_t n = std::min(data.size(), kChunk - offset);
      intact = std::memcmp(data.data(), expected.data() + offset, n) == 0;
      received += n;
      sincePause += n;
      data.remove_prefix(n);
    }
    // Read slowly: stop for a moment every 8 MiB, so the sender's buffer must fill.
    if (sincePause >= 8 * 1024 * 1024) {
      sincePause = 0;
      transport->pauseProducing();
      reactor.callLater(0.002, [this] {
        if (connected) transport->resumeProducing();
      });
    }
  }
};

}  // namespace

TEST(FlowControl, PushProducerToSlowReaderStaysWithinTheHighWaterMark) {
  Reactor reactor;
  auto watchdog = armWatchdog(reactor, 100);
  Pattern pattern;
  const std::size_t total = streamBytes();
  StreamStats stats;
  SlowReader* reader = nullptr;
  auto server = std::make_shared<Factory>();
  server->protocol = [&] { return std::make_unique<Streamer>(pattern, total, stats); };
  struct Client : ClientFactory {
    std::function<std::unique_ptr<Protocol>()> make;
    std::function<void()> lost;
    std::unique_ptr<Protocol> buildProtocol(const Address&) override { return make(); }
    void clientConnectionLost(Connector&, const Failure&) override { lost(); }
    void clientConnectionFailed(Connector&, const Failure& f) override {
      ADD_FAILURE() << f.toString();
      lost();
    }
  };
  auto client = std::make_shared<Client>();
  std::size_t received = 0;
  bool intact = false;
  client->make = [&]() -> std::unique_ptr<Protocol> {
    auto p = std::make_unique<SlowReader>(reactor, pattern);
    reader = p.get();
    return p;
  };
  client->lost = [&] {
    received = reader ? reader->received : 0;
    intact = reader && reader->intact;
    stopIfRunning(reactor);
  };
  auto port = reactor.listenTCP(0, server, 50, "127.0.0.1");
  reactor.connectTCP("127.0.0.1", port->getHost().port(), client);
  reactor.run();
  EXPECT_EQ(received, total);
  EXPECT_TRUE(intact) << "a byte arrived wrong or out of order";
  EXPECT_LE(stats.maxBuffered, kHigh + kChunk);
  EXPECT_GT(stats.pauses, 0) << "the slow reader never made the producer pause";
}

namespace {

/// Writes one chunk each time the transport asks (a pull producer), `chunks` in all.
struct Puller : Protocol, Producer {
  int chunks;
  int& asked;
  Puller(int n, int& a) : chunks(n), asked(a) {}
  void connectionMade() override { transport->registerProducer(*this, false); }
  void resumeProducing() override {
    ++asked;
    EXPECT_LE(transport->bufferedSize(), Transport::kDefaultLowWater);
    transport->write(std::string(kChunk, 'p'));
    if (--chunks == 0) {
      transport->unregisterProducer();
      transport->loseConnection();
    }
  }
  void stopProducing() override {}
};

struct Counter : Protocol {
  std::size_t* bytes;
  explicit Counter(std::size_t* b) : bytes(b) {}
  void dataReceived(std::string_view d) override { *bytes += d.size(); }
};

struct LostClient : ClientFactory {
  std::function<std::unique_ptr<Protocol>()> make;
  std::function<void(const Failure&)> lost;
  std::unique_ptr<Protocol> buildProtocol(const Address&) override { return make(); }
  void clientConnectionLost(Connector&, const Failure& f) override { lost(f); }
  void clientConnectionFailed(Connector&, const Failure& f) override { lost(f); }
};

}  // namespace

TEST(FlowControl, PullProducerIsAskedForMoreUntilItUnregisters) {
  Reactor reactor;
  auto watchdog = armWatchdog(reactor, 30);
  int asked = 0;
  auto server = std::make_shared<Factory>();
  server->protocol = [&] { return std::make_unique<Puller>(200, asked); };
  std::size_t bytes = 0;
  auto client = std::make_shared<LostClient>();
  client->make = [&] { return std::make_unique<Counter>(&bytes); };
  client->lost = [&](const Failure&) { stopIfRunning(reactor); };
  auto port = reactor.listenTCP(0, server, 50, "127.0.0.1");
  reactor.connectTCP("127.0.0.1", port->getHost().port(), client);
  reactor.run();
  EXPECT_EQ(asked, 200);
  EXPECT_EQ(bytes, 200 * kChunk);
}

TEST(FlowControl, ProducerHearsStopProducingWhenTheConnectionIsLost) {
  Reactor reactor;
  auto watchdog = armWatchdog(reactor, 10);
  struct Idle : Protocol, Producer {
    Reactor& reactor;
    bool* stopped;
    Idle(Reactor& r, bool* s) : reactor(r), stopped(s) {}
    void connectionMade() override { transport->registerProducer(*this, true); }
    void resumeProducing() override {}
    void stopProducing() override {
      *stopped = true;
      stopIfRunning(reactor);
    }
  };
  bool stopped = false;
  auto server = std::make_shared<Factory>();
  server->protocol = [&] { return std::make_unique<Idle>(reactor, &stopped); };
  struct Closer : Protocol {
    void connectionMade() override { transport->loseConnection(); }
  };
  auto client = std::make_shared<LostClient>();
  client->make = [] { return std::make_unique<Closer>(); };
  client->lost = [](const Failure&) {};
  auto port = reactor.listenTCP(0, server, 50, "127.0.0.1");
  reactor.connectTCP("127.0.0.1", port->getHost().port(), client);
  reactor.run();
  EXPECT_TRUE(stopped);
}

TEST(FlowControl, SecondProducerAndBadWaterMarksAreErrors) {
  spindle::testing::StringTransport t;
  struct P : Producer {
    void resumeProducing() override {}
    void stopProducing() override {}
  } a, b;
  t.registerProducer(a, true);
  EXPECT_THROW(t.registerProducer(b, true), Error);
  t.unregisterProducer();
  EXPECT_NO_THROW(t.registerProducer(b, false));
  EXPECT_THROW(t.setWriteBufferWaterMarks(10, 20), Error);
}
