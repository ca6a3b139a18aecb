// The slow poetry server's protocol: one poem, numBytes bytes every delay seconds.
#include <algorithm>

#include "poetry.hpp"

namespace poetry {

SlowPoetryProtocol::SlowPoetryProtocol(spindle::IReactorTime& time, spindle::SharedBytes poem,
                                       ServeOptions options)
    : time_(time),
      poem_(std::move(poem)),
      options_(options),
      idle_(
          time, [this] { return clientMoved(); }, [this] { dropClient(); }) {}

void SlowPoetryProtocol::connectionMade() {
  if (options_.delay > 0) transport->registerProducer(*this, true);
  sendNext();
  bool closingNow = offset_ >= poem_.size() && transport->bufferedSize() == 0;
  if (options_.idleTimeout && connected && !closingNow) idle_.start(*options_.idleTimeout);
}

// Bytes that left the transport's buffer since the last look. An empty buffer counts as
// progress: nothing waits on the client (the slow schedule is between two chunks).
bool SlowPoetryProtocol::clientMoved() {
  std::size_t buffered = transport->bufferedSize();
  std::size_t handed = offset_ - buffered;
  bool moved = buffered == 0 || handed != handedAtLastLook_;
  handedAtLastLook_ = handed;
  return moved;
}

void SlowPoetryProtocol::dropClient() {
  if (next_.active()) next_.cancel();
  spindle::Failure why = dropIdle(*transport, *options_.idleTimeout);
  if (onDropped) onDropped(transport->getPeer(), why);
}

void SlowPoetryProtocol::sendNext() {
  if (options_.delay <= 0) {
    // Fast mode hands over the whole poem by reference: what the kernel does not take at once
    // waits in the transport without a copy, so a slow client costs no memory for it.
    transport->write(poem_);
    offset_ = poem_.size();
    if (connected) transport->loseConnection();
    return;
  }
  // Slow mode writes one piece per tick.
  if (!paused_ && offset_ < poem_.size()) {
    std::size_t n = std::min(poem_.size() - offset_, std::max<std::size_t>(options_.numBytes, 1));
    transport->write(poem_.view().substr(offset_, n));
    offset_ += n;
  }
  if (!connected) return;  // a write found the connection gone
  if (offset_ >= poem_.size()) {
    transport->unregisterProducer();
    transport->loseConnection();
    return;
  }
  if (!paused_) next_ = time_.callLater(options_.delay, [this] { sendNext(); });
}

void SlowPoetryProtocol::pauseProducing() {
  paused_ = true;
  if (next_.active()) next_.cancel();
}

void SlowPoetryProtocol::resumeProducing() {
  idle_.touch();  // the transport drained to its low water mark: the client is reading
  if (!paused_) return;
  paused_ = false;
  // Only the slow mode is a producer.
  if (!next_.active()) next_ = time_.callLater(options_.delay, [this] { sendNext(); });
}

void SlowPoetryProtocol::connectionLost(const spindle::Failure&) {
  if (next_.active()) next_.cancel();
  idle_.stop();
}

SlowPoetryFactory::SlowPoetryFactory(spindle::IReactorTime& time,
                                     std::shared_ptr<const std::string> poem, ServeOptions options)
    : time_(time), poem_(std::move(poem)), options_(options) {}

std::unique_ptr<spindle::Protocol> SlowPoetryFactory::buildProtocol(const spindle::Address& addr) {
  if (onConnection) onConnection(addr);
  auto protocol = makeProtocol<SlowPoetryProtocol>(time_, poem_, options_);
  if (onDropped) protocol->onDropped = onDropped;
  return protocol;
}

}  // namespace poetry
