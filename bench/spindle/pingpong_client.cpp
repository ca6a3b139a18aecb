// spindle's ping-pong client, on the public API only (the command line of Asio's and muduo's):
//   pingpong-client HOST PORT THREADS BLOCKSIZE SESSIONS SECONDS [--verify]
// Opens SESSIONS connections with TCP_NODELAY; once all are up, each sends one BLOCKSIZE block
// and then echoes whatever it reads. After SECONDS it prints what it received in that window,
// in the same RESULT line as the common load generator (pingpong-load). --verify checks that
// every byte read is the byte expected at that position of the circulating block.
#include <spindle/spindle.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "bench_util.hpp"

namespace {

struct Totals {
  std::string block;
  bool verify = false;
  int sessions = 0;
  int connected = 0;
  int failed = 0;
  bool measuring = false;
  std::uint64_t bytes = 0;
  std::uint64_t reads = 0;
  std::uint64_t badBytes = 0;
  std::function<void()> allConnected;
};

class Session : public spindle::Protocol {
 public:
  explicit Session(Totals& t) : t_(t) {}

  void connectionMade() override {
    transport->setTcpNoDelay(true);
    if (++t_.connected == t_.sessions) t_.allConnected();
  }
  void dataReceived(std::string_view data) override {
    if (t_.verify) check(data);
    if (t_.measuring) {
      t_.bytes += data.size();
      ++t_.reads;
    }
    transport->write(data);
  }
  void start() { transport->write(t_.block); }

 private:
  void check(std::string_view data) {
    const std::size_t n = t_.block.size();
    for (char c : data) {
      if (c != t_.block[offset_ % n]) ++t_.badBytes;
      ++offset_;
    }
  }
  Totals& t_;
  std::size_t offset_ = 0;
};

class SessionFactory : public spindle::ClientFactory {
 public:
  explicit SessionFactory(Totals& t) : t_(t) {}
  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address&) override {
    auto s = makeProtocol<Session>(t_);
    sessions.push_back(s.get());
    return s;
  }
  void clientConnectionFailed(spindle::Connector&, const spindle::Failure& reason) override {
    std::fprintf(stderr, "pingpong-client: connect failed: %s\n", reason.toString().c_str());
    ++t_.failed;
  }
  std::vector<Session*> sessions;

 private:
  Totals& t_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7 && argc != 8)
    bench::die("usage: pingpong-client HOST PORT THREADS BLOCKSIZE SESSIONS SECONDS [--verify]");
  const char* host = argv[1];
  int port = static_cast<int>(bench::parseInt(argv[2], "PORT", 1, 65535));
  if (bench::parseInt(argv[3], "THREADS", 1, 64) != 1)
    bench::die("pingpong-client: only THREADS=1 is supported (one reactor per process)");
  int blockSize = static_cast<int>(bench::parseInt(argv[4], "BLOCKSIZE", 1, 1 << 24));
  int sessions = static_cast<int>(bench::parseInt(argv[5], "SESSIONS", 1, 100000));
  double seconds = bench::parseSeconds(argv[6], "SECONDS");
  bench::raiseFdLimit();

  Totals t;
  t.sessions = sessions;
  t.verify = argc == 8 && std::string_view(argv[7]) == "--verify";
  for (int i = 0; i < blockSize; ++i)
    t.block.push_back(bench::patternByte(static_cast<std::size_t>(i)));

  spindle::Reactor reactor;
  auto factory = std::make_shared<SessionFactory>(t);
  double started = 0, stopped = 0;
  t.allConnected = [&] {
    t.measuring = true;
    started = bench::now();
    for (Session* s : factory->sessions)
      s->start();
    reactor.callLater(seconds, [&] {
      stopped = bench::now();
      t.measuring = false;
      reactor.stop();
    });
  };
  std::vector<std::shared_ptr<spindle::Connector>> connectors;
  for (int i = 0; i < sessions; ++i)
    connectors.push_back(reactor.connectTCP(host, static_cast<uint16_t>(port), factory, 10));
  // Bounded even if the sessions never all connect.
  auto giveUp = reactor.callLater(seconds + 15, [&] {
    if (reactor.running()) reactor.stop();
  });
  reactor.run();
  if (t.connected < sessions || stopped == 0) {
    std::fprintf(stderr, "pingpong-client: only %d of %d sessions connected (%d failed)\n",
                 t.connected, sessions, t.failed);
    return 1;
  }
  double elapsed = stopped - started;
  double messages = static_cast<double>(t.bytes) / blockSize;
  std::printf(
      "RESULT bytes=%llu reads=%llu messages=%.0f seconds=%.6f mib_per_s=%.3f msgs_per_s=%.1f "
      "bad_bytes=%llu\n",
      static_cast<unsigned long long>(t.bytes), static_cast<unsigned long long>(t.reads), messages,
      elapsed, static_cast<double>(t.bytes) / elapsed / (1 << 20), messages / elapsed,
      static_cast<unsigned long long>(t.badBytes));
  return t.badBytes == 0 && t.bytes > 0 ? 0 : 1;
}
