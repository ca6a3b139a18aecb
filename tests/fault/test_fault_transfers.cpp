// Transfers of a few MiB over real loopback while every socket call may be cut short,
// interrupted or told to try again (the chaos() plan): echo, lines and netstrings must still
// deliver every byte exactly once, in order, and end cleanly, with nothing leaked. Each runs
// under several seeds; a failure names its seed, and the same seed replays the same faults.
#include "fault_support.hpp"

namespace spindle::test {
namespace {

constexpr std::size_t kEchoBytes = 4 << 20;

/// Runs one client against `server` under chaos(seed) and checks that every socket call kind
/// saw faults and that nothing leaked once both ends are gone.
class FaultTransfer : public ::testing::TestWithParam<std::uint64_t> {
 protected:
  void SetUp() override { armWatchdog(reactor, 60); }

  void run(std::shared_ptr<Factory> server, std::function<std::unique_ptr<Protocol>()> make) {
    auto port = reactor.listenTCP(0, std::move(server), 50, "127.0.0.1");
    baseline_.emplace();
    fault::Scope plan(chaos(), GetParam());
    auto client = std::make_shared<LambdaClient>();
    client->make = std::move(make);
    client->failed = [this](const Failure& f) {
      ADD_FAILURE() << "connect failed: " << f.toString();
      stopIfRunning(reactor);
    };
    reactor.connectTCP("127.0.0.1", port->getHost().port(), client);
    reactor.run();
    for (Call c :
         {Call::Recv, Call::Send, Call::Sendmsg, Call::Accept, Call::Connect, Call::EpollWait}) {
      EXPECT_GT(fault::injected(c), 0u) << "no fault hit call kind " << static_cast<int>(c);
    }
  }

  /// Called by the client when its connection is lost. The server's may still be closing: once
  /// it is gone too, and the reactor has freed both (at the end of the step that told them),
  /// checks for leaks and stops.
  void finishWhenServerGone() {
    reactor.callLater(0, [this] {
      if (serversLive > 0) return finishWhenServerGone();
      baseline_->expectNothingLeaked();
      stopIfRunning(reactor);
    });
  }

  Reactor reactor;
  int serversLive = 0;  // server protocols not yet told connectionLost
  std::optional<FaultBaseline> baseline_;
};

std::string describe(const std::optional<Failure>& f) {
  return f ? f->toString() : "no connectionLost";
}

// --- Echo --------------------------------------------------------------------------------

/// Echoes every byte; when the peer's stream ends, closes once its echo is flushed.
struct EchoServer : Protocol, HalfCloseableProtocol, Counted {
  int* live;
  explicit EchoServer(int* l) : live(l) { ++*live; }
  void dataReceived(std::string_view data) override { transport->write(data); }
  void readConnectionLost() override { transport->loseConnection(); }
  void connectionLost(const Failure&) override { --*live; }
};

/// A pull producer of the payload: each time the transport asks, one piece of random size, in
/// turn by write, writeSequence and a write of SharedBytes (queued by reference, so flushes mix
/// copied and shared segments in one sendmsg); at the end it half-closes. Checksums the echo.
struct EchoClient : Protocol, Producer, Counted {
  std::shared_ptr<const std::string> shared;
  const std::string& payload;
  Checksum received;
  std::optional<Failure> reason;
  std::function<void()> done;
  std::uint64_t random;
  std::size_t at = 0;
  int pieces = 0;
  EchoClient(std::shared_ptr<const std::string> p, std::uint64_t seed)
      : shared(std::move(p)), payload(*shared), random(seed) {}

  void connectionMade() override { transport->registerProducer(*this, false); }
  void resumeProducing() override {
    random = random * 6364136223846793005ull + 1442695040888963407ull;
    const std::size_t n = std::min<std::size_t>(1 + (random >> 33) % 65536, payload.size() - at);
    const std::string_view piece(payload.data() + at, n);
    switch (++pieces % 3) {
      case 0:
        transport->write(piece);
        break;
      case 1:
        transport->writeSequence({piece.substr(0, n / 3), piece.substr(n / 3)});
        break;
      default:
        transport->write(SharedBytes(shared).substr(at, n));
    }
    at += n;
    if (at == payload.size()) {
      transport->unregisterProducer();
      transport->loseWriteConnection();
    }
  }
  void stopProducing() override {}
  void dataReceived(std::string_view data) override { received.add(data); }
  void connectionLost(const Failure& r) override {
    reason = r;
    done();
  }
};

TEST_P(FaultTransfer, EchoDeliversEveryByteOnceAndEndsCleanly) {
  const auto payload = std::make_shared<const std::string>(
      makePayload(kEchoBytes, static_cast<unsigned>(GetParam())));
  Checksum expected;
  expected.add(*payload);
  auto server = std::make_shared<Factory>();
  server->protocol = [this] { return std::make_unique<EchoServer>(&serversLive); };
  Checksum got;
  std::string why = "no connection";
  run(server, [&]() -> std::unique_ptr<Protocol> {
    auto p = std::make_unique<EchoClient>(payload, GetParam());
    p->done = [&, self = p.get()] {
      got = self->received;
      why = describe(self->reason);
      EXPECT_TRUE(self->reason && self->reason->check<ConnectionDone>()) << why;
      finishWhenServerGone();
    };
    return p;
  });
  EXPECT_EQ(got.bytes, expected.bytes) << "seed " << GetParam() << ": " << why;
  EXPECT_EQ(got.value, expected.value) << "seed " << GetParam() << ": bytes changed";
}

// --- Lines -------------------------------------------------------------------------------

std::string lineNumber(std::size_t i, std::size_t length) {
  std::string line = std::to_string(i) + ":";
  for (std::size_t k = line.size(); k < length; ++k)
    line += static_cast<char>('a' + (i * 7 + k) % 26);
  return line;
}

/// Answers each line with its length and itself; closes when the peer's stream ends.
struct LineServer : LineReceiver, HalfCloseableProtocol, Counted {
  int* live;
  explicit LineServer(int* l) : live(l) { ++*live; }
  void lineReceived(std::string_view line) override {
    sendLine(std::to_string(line.size()) + " " + std::string(line));
  }
  void readConnectionLost() override { transport->loseConnection(); }
  void connectionLost(const Failure&) override { --*live; }
};

struct LineClient : LineOnlyReceiver, Counted {
  std::size_t count;
  std::size_t next = 0;
  std::size_t wrong = 0;
  std::function<void(const Failure&)> done;
  explicit LineClient(std::size_t n) : count(n) {}
  static std::size_t lengthOf(std::size_t i) { return 2 + (i * 7919) % 700; }
  void connectionMade() override {
    for (std::size_t i = 0; i < count; ++i)
      sendLine(lineNumber(i, lengthOf(i)));
    transport->loseWriteConnection();
  }
  void lineReceived(std::string_view line) override {
    const std::string sent = lineNumber(next, lengthOf(next));
    if (line != std::to_string(sent.size()) + " " + sent) ++wrong;
    ++next;
  }
  void connectionLost(const Failure& r) override { done(r); }
};

TEST_P(FaultTransfer, LinesArriveWholeInOrderAndEachOnce) {
  constexpr std::size_t kLines = 12000;  // about 4 MiB each way
  auto server = std::make_shared<Factory>();
  server->protocol = [this] { return std::make_unique<LineServer>(&serversLive); };
  std::size_t received = 0, wrong = 0;
  std::string why;
  run(server, [&]() -> std::unique_ptr<Protocol> {
    auto p = std::make_unique<LineClient>(kLines);
    p->done = [&, self = p.get()](const Failure& r) {
      received = self->next;
      wrong = self->wrong;
      why = r.toString();
      EXPECT_TRUE(r.check<ConnectionDone>()) << why;
      finishWhenServerGone();
    };
    return p;
  });
  EXPECT_EQ(received, kLines) << "seed " << GetParam() << ": " << why;
  EXPECT_EQ(wrong, 0u) << "seed " << GetParam();
}

// --- Netstrings --------------------------------------------------------------------------

/// Echoes every netstring; closes when the peer's stream ends.
struct NetstringServer : NetstringReceiver, HalfCloseableProtocol, Counted {
  int* live;
  explicit NetstringServer(int* l) : live(l) { ++*live; }
  void stringReceived(std::string_view s) override { sendString(s); }
  void readConnectionLost() override { transport->loseConnection(); }
  void connectionLost(const Failure&) override { --*live; }
};

struct NetstringClient : NetstringReceiver, Counted {
  const std::vector<std::string>& strings;
  std::size_t next = 0, wrong = 0;
  std::function<void(const Failure&)> done;
  explicit NetstringClient(const std::vector<std::string>& s) : strings(s) {}
  void connectionMade() override {
    for (const auto& s : strings)
      sendString(s);
    transport->loseWriteConnection();
  }
  void stringReceived(std::string_view s) override {
    if (next >= strings.size() || s != strings[next]) ++wrong;
    ++next;
  }
  void connectionLost(const Failure& r) override { done(r); }
};

TEST_P(FaultTransfer, NetstringsArriveWholeInOrderAndEachOnce) {
  std::vector<std::string> strings;
  std::size_t total = 0;
  for (unsigned i = 0; total < (4u << 20); ++i) {
    strings.push_back(makePayload((i * 40503u) % 90000, i + static_cast<unsigned>(GetParam())));
    total += strings.back().size();
  }
  auto server = std::make_shared<Factory>();
  server->protocol = [this] { return std::make_unique<NetstringServer>(&serversLive); };
  std::size_t received = 0, wrong = 0;
  std::string why;
  run(server, [&]() -> std::unique_ptr<Protocol> {
    auto p = std::make_unique<NetstringClient>(strings);
    p->done = [&, self = p.get()](const Failure& r) {
      received = self->next;
      wrong = self->wrong;
      why = r.toString();
      EXPECT_TRUE(r.check<ConnectionDone>()) << why;
      finishWhenServerGone();
    };
    return p;
  });
  EXPECT_EQ(received, strings.size()) << "seed " << GetParam() << ": " << why;
  EXPECT_EQ(wrong, 0u) << "seed " << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Seeds, FaultTransfer, ::testing::Values(1u, 2u, 3u, 4u, 5u));

}  // namespace
}  // namespace spindle::test
