// The poetry client's protocol and factory (the tutorial's client 2.0), with a per-task timeout.
#include "poetry.hpp"

namespace poetry {

// --- PoetryProtocol ----------------------------------------------------------------------------

void PoetryProtocol::connectionMade() {
  factory().protocolStarted(*this);
}

void PoetryProtocol::dataReceived(std::string_view data) {
  factory().firstEvent(/*lost=*/false);
  poem_ += data;
  factory().chunkReceived(data.size(), transport->getPeer());
}

void PoetryProtocol::connectionLost(const spindle::Failure& reason) {
  factory().firstEvent(/*lost=*/true);
  factory().protocolEnded(*this, reason);
}

// --- PoetryClientFactory -----------------------------------------------------------------------

PoetryClientFactory::PoetryClientFactory(spindle::IReactorTime& time, int task,
                                         spindle::HostPort address, std::optional<double> timeout,
                                         ClientEvents events)
    : time_(time),
      task_(task),
      address_(std::move(address)),
      timeout_(timeout),
      events_(std::move(events)) {}

PoetryClientFactory::~PoetryClientFactory() {
  if (timer_.active()) timer_.cancel();  // its callback points at this factory
}

std::unique_ptr<spindle::Protocol> PoetryClientFactory::buildProtocol(const spindle::Address&) {
  return makeProtocol<PoetryProtocol>();
}

void PoetryClientFactory::startedConnecting(spindle::Connector& connector) {
  connector_ = connector.weak_from_this();
  startTimer();
}

void PoetryClientFactory::startTimer() {
  if (!timeout_ || timerStarted_ || finished_) return;
  timerStarted_ = true;
  timer_ = time_.callLater(*timeout_, [this] { timedOut(); });
}

void PoetryClientFactory::clientConnectionFailed(spindle::Connector&,
                                                 const spindle::Failure& reason) {
  // After a timeout this is the UserError of our own stopConnecting(): already reported.
  if (!finished_) finish(Outcome::ConnectFailed, {}, reason.getErrorMessage());
}

void PoetryClientFactory::clientConnectionLost(spindle::Connector&, const spindle::Failure&) {
  // The protocol's connectionLost has already reported the outcome.
}

void PoetryClientFactory::protocolStarted(PoetryProtocol& protocol) {
  protocol_ = &protocol;
  // Connected although the task already timed out (the attempt finished in the same step).
  if (finished_) protocol.transport->loseConnection();
}

void PoetryClientFactory::chunkReceived(std::size_t bytes, const spindle::Address& peer) {
  if (!finished_ && events_.chunk) events_.chunk(task_, bytes, peer);
}

void PoetryClientFactory::protocolEnded(PoetryProtocol& protocol, const spindle::Failure& reason) {
  if (protocol_ == &protocol) protocol_ = nullptr;
  if (finished_) return;  // timed out earlier; this is the close we asked for
  if (reason.check<spindle::ConnectionDone>()) {
    finish(Outcome::Poem, protocol.poem(), {});
  } else {
    finish(Outcome::ConnectionLost, protocol.poem(), reason.getErrorMessage());
  }
}

void PoetryClientFactory::firstEvent(bool lost) {
  bool& seen = lost ? sawLost_ : sawData_;
  if (seen) return;
  seen = true;
  const auto& hook = lost ? events_.firstLost : events_.firstData;
  if (hook) hook();
}

void PoetryClientFactory::timedOut() {
  if (finished_) return;
  PoetryProtocol* protocol = protocol_;
  auto connector = connector_.lock();
  finish(Outcome::TimedOut, protocol ? protocol->poem() : std::string(), {});
  if (protocol != nullptr) {
    protocol->transport->loseConnection();
  } else if (connector != nullptr && connector->state() == spindle::Connector::State::Connecting) {
    connector->stopConnecting();  // its clientConnectionFailed(UserError) is then ignored
  }
}

void PoetryClientFactory::finish(Outcome outcome, std::string poem, std::string reason) {
  if (finished_) return;
  finished_ = true;
  if (timer_.active()) timer_.cancel();
  if (events_.done) {
    events_.done(TaskResult{task_, address_, outcome, std::move(poem), std::move(reason)});
  }
}

}  // namespace poetry
