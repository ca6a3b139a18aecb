// The poetry clients' factories and protocols: one connection, one string, fired on a Deferred.
#include <algorithm>

#include "client.hpp"
#include "transform.hpp"

namespace poetry {

// --- OneShotClientFactory ----------------------------------------------------------------------

OneShotClientFactory::OneShotClientFactory()
    : self_(std::make_shared<OneShotClientFactory*>(this)),
      d_([weak = std::weak_ptr<OneShotClientFactory*>(self_)] {
        if (auto self = weak.lock()) (*self)->stop();
      }) {}

void OneShotClientFactory::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (protocol_ != nullptr) {
    protocol_->transport->loseConnection();
  } else if (auto connector = connector_.lock();
             connector && connector->state() == spindle::Connector::State::Connecting) {
    connector->stopConnecting();  // its clientConnectionFailed(UserError) changes nothing now
  }
}

void OneShotClientFactory::startedConnecting(spindle::Connector& connector) {
  connector_ = connector.weak_from_this();
}

void OneShotClientFactory::clientConnectionFailed(spindle::Connector&,
                                                  const spindle::Failure& reason) {
  fail(reason);
}

void OneShotClientFactory::protocolStarted(spindle::Protocol& protocol) {
  protocol_ = &protocol;
  // Connected in the same step the fetch was stopped: nobody wants this connection.
  if (stopped_) protocol.transport->loseConnection();
}

void OneShotClientFactory::protocolEnded(spindle::Protocol& protocol) {
  if (protocol_ == &protocol) protocol_ = nullptr;
}

void OneShotClientFactory::succeed(std::string value) {
  if (!settled()) d_.callback(std::move(value));
}

void OneShotClientFactory::fail(const spindle::Failure& reason) {
  if (!settled()) d_.errback(reason);
}

// --- PoetryProtocol / PoetryClientFactory ------------------------------------------------------

void PoetryProtocol::connectionMade() {
  factory().protocolStarted(*this);
}

void PoetryProtocol::dataReceived(std::string_view data) {
  poem_ += data;
  factory().chunkReceived(data.size(), transport->getPeer());
}

void PoetryProtocol::connectionLost(const spindle::Failure& reason) {
  factory().poemEnded(*this, std::move(poem_), reason);
  // Not a tail call, so this frame stays on the stack under the Deferred's callbacks: get-poetry
  // --stack=lost cuts its call chain here.
  asm volatile("");
}

std::unique_ptr<spindle::Protocol> PoetryClientFactory::buildProtocol(const spindle::Address&) {
  return makeProtocol<PoetryProtocol>();
}

void PoetryClientFactory::chunkReceived(std::size_t bytes, const spindle::Address& peer) {
  if (!settled() && onChunk_) onChunk_(bytes, peer);
}

void PoetryClientFactory::poemEnded(PoetryProtocol& protocol, std::string poem,
                                    const spindle::Failure& reason) {
  protocolEnded(protocol);
  // As the tutorial: a clean close ends the poem; anything else cut it short.
  if (reason.check<spindle::ConnectionDone>()) {
    succeed(std::move(poem));
  } else {
    fail(reason);
  }
}

spindle::Deferred<std::string> getPoetry(spindle::Reactor& reactor, std::string host, uint16_t port,
                                         FetchOptions options) {
  auto factory = std::make_shared<PoetryClientFactory>(std::move(options.onChunk));
  spindle::Deferred<std::string> d = factory->deferred();
  if (options.timeout) d.addTimeout(*options.timeout, reactor);
  reactor.connectTCP(std::move(host), port, std::move(factory), options.connectTimeout);
  return d;
}

spindle::Task<std::string> getPoetryTask(spindle::Reactor& reactor, std::string host, uint16_t port,
                                         FetchOptions options) {
  co_return co_await getPoetry(reactor, std::move(host), port, std::move(options));
}

// --- The transform client ----------------------------------------------------------------------

NoAnswerError::NoAnswerError()
    : spindle::ProtocolError("the transform server closed the connection without an answer") {}

void TransformClientProtocol::connectionMade() {
  MAX_LENGTH = factory().maxAnswer();
  factory().protocolStarted(*this);
  if (!factory().stopped()) sendString(factory().request());
}

void TransformClientProtocol::stringReceived(std::string_view answer) {
  if (answered_) return;  // one answer per request; the server closes after it
  answered_ = true;
  factory().answered(answer);
  transport->loseConnection();
}

void TransformClientProtocol::connectionLost(const spindle::Failure& reason) {
  factory().transformEnded(*this, reason);
}

TransformClientFactory::TransformClientFactory(std::string_view name, std::string_view poem) {
  request_.reserve(name.size() + 1 + poem.size());
  request_.append(name).append(1, '.').append(poem);
}

std::unique_ptr<spindle::Protocol> TransformClientFactory::buildProtocol(const spindle::Address&) {
  return makeProtocol<TransformClientProtocol>();
}

std::size_t TransformClientFactory::maxAnswer() const noexcept {
  return std::max(kDefaultMaxRequest, 4 * request_.size());
}

void TransformClientFactory::transformEnded(TransformClientProtocol& protocol,
                                            const spindle::Failure& reason) {
  protocolEnded(protocol);
  // Answered already: nothing changes. A clean close without an answer is the server's way of
  // saying it could not transform (the tutorial's server just closes).
  if (reason.check<spindle::ConnectionDone>()) {
    fail(spindle::Failure(NoAnswerError()));
  } else {
    fail(reason);
  }
}

spindle::Deferred<std::string> transformPoem(spindle::Reactor& reactor, std::string host,
                                             uint16_t port, std::string_view name,
                                             std::string_view poem, std::optional<double> timeout) {
  auto factory = std::make_shared<TransformClientFactory>(name, poem);
  spindle::Deferred<std::string> d = factory->deferred();
  if (timeout) d.addTimeout(*timeout, reactor);
  reactor.connectTCP(std::move(host), port, std::move(factory));
  return d;
}

}  // namespace poetry
