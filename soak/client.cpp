// The soak client: opens the connections a batch at a time, starts every stream once all are
// held, lets them run for the set time, then ends each with the End exchange.
#include <cstdio>
#include <memory>
#include <vector>

#include "roles.hpp"

namespace soak {
namespace {

class SoakClient;

// The client half of the exchange: Hello on connect; Ready means the server has accepted and
// built its protocol, so the connection is held; Start and End come when SoakClient says.
class ClientConn : public spindle::ProtocolFor<SoakClient, Endpoint> {
 public:
  using ProtocolFor::ProtocolFor;

  void assignId(std::uint64_t id) { setId(id, Direction::ClientToServer); }
  bool established() const noexcept { return established_; }
  void connectionMade() override;
  void start() {
    sendFrame(std::string(1, kStart));
    startSending();
  }
  void finish() { finishSending(); }

 protected:
  void controlReceived(Tag tag, std::string_view frame) override;
  void lost(bool completed) override;

 private:
  bool established_ = false;
};

enum class Phase { Connecting, Streaming, Ending, Done };

constexpr double kTick = 10;  // seconds between progress lines

class SoakClient : public spindle::ClientFactory, public std::enable_shared_from_this<SoakClient> {
 public:
  SoakClient(spindle::Reactor& reactor, const Options& options, std::uint16_t port)
      : reactor_(reactor), options_(options), port_(port) {}

  void begin();
  ClientResult& result() { return result_; }

  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address&) override;
  void clientConnectionFailed(spindle::Connector&, const spindle::Failure& reason) override;
  void established(ClientConn& conn);
  void lost(ClientConn& conn, bool wasEstablished);

 private:
  void launch();
  void settle();
  void beginStreaming();
  void finishAll();
  void abortStragglers();
  void tick();
  void report(const char* what);
  void stop(const std::string& failure = {});

  spindle::Reactor& reactor_;
  const Options& options_;
  const std::uint16_t port_;
  ClientResult result_;
  Phase phase_ = Phase::Connecting;
  std::uint64_t launched_ = 0, inFlight_ = 0;
  std::vector<ClientConn*> conns_;  // by id; null once the connection is gone
  std::vector<std::shared_ptr<spindle::Connector>> connectors_;
  spindle::DelayedCall connectDeadline_, streamEnd_, endDeadline_, ticker_;
  double phaseStart_ = 0;
};

void ClientConn::connectionMade() {
  Endpoint::connectionMade();
  sendFrame(numberFrame(kHello, id()));
}

void ClientConn::controlReceived(Tag tag, std::string_view frame) {
  if (tag != kReady || established_ || frame.size() != 1) {
    return protocolViolation("an unexpected control frame from the server");
  }
  established_ = true;
  factory().established(*this);
}

void ClientConn::lost(bool) {
  factory().lost(*this, established_);
}

void SoakClient::begin() {
  phaseStart_ = reactor_.seconds();
  std::printf("connecting %llu connections to %s:%u, at most %llu at a time\n",
              static_cast<unsigned long long>(options_.connections), options_.host(), port_,
              static_cast<unsigned long long>(options_.batch));
  std::fflush(stdout);
  connectDeadline_ = reactor_.callLater(options_.connectTimeout, [this] {
    result_.failure = "not every connection was held after the connect timeout";
    beginStreaming();
  });
  reactor_.callLater(options_.clientBound(), [this] { stop("the client's watchdog fired"); });
  launch();
}

// Keeps `batch` attempts outstanding; an attempt settles when the server's Ready arrives or it
// fails, so the server's accept queue never holds more than a batch.
void SoakClient::launch() {
  while (phase_ == Phase::Connecting && launched_ < options_.connections &&
         inFlight_ < options_.batch) {
    ++launched_;
    ++inFlight_;
    connectors_.push_back(
        reactor_.connectTCP(options_.host(), port_, shared_from_this(), options_.connectTimeout));
  }
}

void SoakClient::settle() {
  --inFlight_;
  launch();
  if (phase_ == Phase::Connecting && launched_ == options_.connections && inFlight_ == 0) {
    beginStreaming();
  }
}

std::unique_ptr<spindle::Protocol> SoakClient::buildProtocol(const spindle::Address&) {
  auto conn = makeProtocol<ClientConn>(result_.totals, options_.seed, options_.maxFrame);
  conn->assignId(conns_.size());
  conns_.push_back(conn.get());
  return conn;
}

void SoakClient::clientConnectionFailed(spindle::Connector&, const spindle::Failure& reason) {
  result_.totals.error("connect: " + reasonKey(reason));
  settle();
}

void SoakClient::established(ClientConn&) {
  settle();
}

void SoakClient::lost(ClientConn& conn, bool wasEstablished) {
  conns_[conn.id()] = nullptr;
  if (!wasEstablished && phase_ == Phase::Connecting) settle();
  if (phase_ == Phase::Ending && result_.totals.open == 0) stop();
}

void SoakClient::report(const char* what) {
  const Totals& t = result_.totals;
  std::printf("%s: %llu open, %.1f MiB sent, %.1f MiB received and verified\n", what,
              static_cast<unsigned long long>(t.open), static_cast<double>(t.bytesSent) / 1048576,
              static_cast<double>(t.bytesReceived) / 1048576);
  std::fflush(stdout);
}

void SoakClient::beginStreaming() {
  if (phase_ != Phase::Connecting) return;
  phase_ = Phase::Streaming;
  if (connectDeadline_.active()) connectDeadline_.cancel();
  const double now = reactor_.seconds();
  result_.connectSeconds = now - phaseStart_;
  phaseStart_ = now;
  // After a connect timeout: give up on the attempts still under way.
  for (auto& c : connectors_) {
    if (c->state() == spindle::Connector::State::Connecting) c->disconnect();
  }
  std::vector<ClientConn*> conns = conns_;
  for (ClientConn* c : conns) {
    if (!c) continue;
    if (c->established()) {
      ++result_.held;
      c->start();
    } else {
      c->transport->abortConnection();
    }
  }
  connectors_.clear();
  std::printf("held %llu connections after %.2f s; streaming both ways for %g s\n",
              static_cast<unsigned long long>(result_.held), result_.connectSeconds,
              options_.seconds);
  std::fflush(stdout);
  streamEnd_ = reactor_.callLater(options_.seconds, [this] { finishAll(); });
  ticker_ = reactor_.callLater(kTick, [this] { tick(); });
}

// A line every kTick seconds while streaming, so a long run shows it is alive.
void SoakClient::tick() {
  if (phase_ != Phase::Streaming) return;
  report("  streaming");
  ticker_ = reactor_.callLater(kTick, [this] { tick(); });
}

void SoakClient::finishAll() {
  phase_ = Phase::Ending;
  if (ticker_.active()) ticker_.cancel();
  const double now = reactor_.seconds();
  result_.streamSeconds = now - phaseStart_;
  phaseStart_ = now;
  report("streaming done");
  std::vector<ClientConn*> conns = conns_;
  for (ClientConn* c : conns) {
    if (c) c->finish();
  }
  endDeadline_ = reactor_.callLater(options_.endTimeout, [this] { abortStragglers(); });
  if (result_.totals.open == 0) stop();
}

void SoakClient::abortStragglers() {
  result_.failure = "connections still open after the end timeout were aborted";
  std::vector<ClientConn*> conns = conns_;
  for (ClientConn* c : conns) {
    if (c) c->transport->abortConnection();
  }
}

void SoakClient::stop(const std::string& failure) {
  if (phase_ == Phase::Done) return;
  if (!failure.empty()) result_.failure = failure;
  if (phase_ == Phase::Ending) result_.closeSeconds = reactor_.seconds() - phaseStart_;
  phase_ = Phase::Done;
  connectors_.clear();  // they hold this factory: drop the cycle even when stopped early
  for (auto* call : {&connectDeadline_, &streamEnd_, &endDeadline_, &ticker_}) {
    if (call->active()) call->cancel();
  }
  if (reactor_.running()) reactor_.stop();
}

}  // namespace

ClientResult runClient(const Options& options, std::uint16_t port) {
  spindle::Reactor reactor;
  auto client = std::make_shared<SoakClient>(reactor, options, port);
  reactor.callWhenRunning([&] { client->begin(); });
  reactor.run();
  return std::move(client->result());
}

}  // namespace soak
