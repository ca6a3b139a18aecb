// The transform server's protocol and factory: one netstring request, one answer or none.
#include <string>

#include "transform.hpp"

namespace poetry {

TransformProtocol::TransformProtocol(spindle::IReactorTime& time)
    : idle_(
          time, [this] { return clientMoved(); }, [this] { dropClient(); }) {}

void TransformProtocol::connectionMade() {
  MAX_LENGTH = factory().options().maxLength;
  if (auto timeout = factory().options().idleTimeout) idle_.start(*timeout);
}

void TransformProtocol::dataReceived(std::string_view data) {
  received_ += data.size();  // all the idle watch needs of the request side
  ProtocolFor::dataReceived(data);
}

void TransformProtocol::stringReceived(std::string_view request) {
  auto parsed = parseRequest(request);
  if (!parsed) {
    transport->loseConnection(spindle::Failure(BadRequestError()));
    return;
  }
  std::string poem;
  try {
    poem = factory().service().transform(parsed->name, parsed->poem);
  } catch (...) {
    // As the tutorial's server: any failure of the transform means no answer, only the close;
    // the reason keeps the exception for the log.
    transport->loseConnection(spindle::Failure(std::current_exception()));
    return;
  }
  answered_ = true;
  written_ = std::to_string(poem.size()).size() + poem.size() + 2;  // LEN ':' POEM ','
  sendString(poem);
  transport->loseConnection();
}

// Progress is a byte of the request read or a byte of the answer taken by the kernel. Unlike the
// slow poetry server's, an empty buffer is no progress: a client that sends nothing is idle.
bool TransformProtocol::clientMoved() {
  std::size_t progress = received_ + (written_ - transport->bufferedSize());
  bool moved = progress != progressAtLastLook_;
  progressAtLastLook_ = progress;
  return moved;
}

void TransformProtocol::dropClient() {
  dropped_ = dropIdle(*transport, *idle_.timeout());
}

void TransformProtocol::connectionLost(const spindle::Failure& reason) {
  idle_.stop();
  if (answered_ && !dropped_ && reason.check<spindle::ConnectionDone>()) return;
  auto& report = factory().onFailure;
  if (report) report(transport->getPeer(), dropped_ ? *dropped_ : reason);
}

TransformFactory::TransformFactory(spindle::IReactorTime& time,
                                   std::shared_ptr<const TransformService> service,
                                   TransformOptions options)
    : time_(time), service_(std::move(service)), options_(options) {}

std::unique_ptr<spindle::Protocol> TransformFactory::buildProtocol(const spindle::Address&) {
  return makeProtocol<TransformProtocol>(time_);
}

}  // namespace poetry
