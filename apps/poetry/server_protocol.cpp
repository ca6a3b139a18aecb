// The slow poetry server's protocol: one poem, numBytes bytes every delay seconds.
#include <algorithm>

#include "poetry.hpp"

namespace poetry {

SlowPoetryProtocol::SlowPoetryProtocol(spindle::IReactorTime& time,
                                       std::shared_ptr<const std::string> poem,
                                       ServeOptions options)
    : time_(time), poem_(std::move(poem)), options_(options) {}

void SlowPoetryProtocol::connectionMade() {
  sendNext();
}

void SlowPoetryProtocol::sendNext() {
  if (!connected) return;
  const std::string& poem = *poem_;
  std::size_t n = poem.size() - offset_;
  if (options_.delay > 0) n = std::min(n, std::max<std::size_t>(options_.numBytes, 1));
  if (n > 0) {
    transport->write(std::string_view(poem).substr(offset_, n));
    offset_ += n;
    if (!connected) return;  // the write found the connection gone
  }
  if (offset_ >= poem.size()) {
    transport->loseConnection();
    return;
  }
  next_ = time_.callLater(options_.delay, [this] { sendNext(); });
}

void SlowPoetryProtocol::connectionLost(const spindle::Failure&) {
  if (next_.active()) next_.cancel();
}

SlowPoetryFactory::SlowPoetryFactory(spindle::IReactorTime& time,
                                     std::shared_ptr<const std::string> poem, ServeOptions options)
    : time_(time), poem_(std::move(poem)), options_(options) {}

std::unique_ptr<spindle::Protocol> SlowPoetryFactory::buildProtocol(const spindle::Address& addr) {
  if (onConnection) onConnection(addr);
  return makeProtocol<SlowPoetryProtocol>(time_, poem_, options_);
}

}  // namespace poetry
