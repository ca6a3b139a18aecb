#include "spindle/testing.hpp"

#include "timer_queue.hpp"

namespace spindle::testing {

StringTransport::StringTransport(Address host, Address peer) : host_(host), peer_(peer) {}

void StringTransport::write(std::string_view data) {
  written_.append(data);
}

void StringTransport::writeSequence(std::span<const std::string_view> data) {
  for (auto piece : data)
    written_.append(piece);
}

void StringTransport::loseConnection(const Failure& reason) {
  if (!disconnecting_) closeReason_ = reason;
  disconnecting_ = true;
}

void StringTransport::registerProducer(Producer& producer, bool streaming) {
  if (producer_) throw Error("a producer is already registered with this transport");
  producer_ = &producer;
  streaming_ = streaming;
}

void StringTransport::setWriteBufferWaterMarks(std::size_t high, std::size_t low) {
  if (low > high) throw Error("the low water mark must not exceed the high one");
}

void connect(Protocol& protocol, StringTransport& transport) {
  protocol.makeConnection(transport);
}

Clock::Clock() : timers_(std::make_unique<detail::TimerQueue>(*this)) {}
Clock::~Clock() = default;

DelayedCall Clock::callLater(double delay, std::function<void()> fn) {
  return timers_->schedule(delay, std::move(fn));
}

std::vector<DelayedCall> Clock::getDelayedCalls() const {
  return timers_->all();
}

void Clock::advance(double amount) {
  now_ += amount;
  timers_->runDue(now_);
}

void Clock::pump(const std::vector<double>& amounts) {
  for (double a : amounts)
    advance(a);
}

void FakeResolver::add(const std::string& host, std::vector<Address> addresses) {
  table_[host] = std::move(addresses);
}

void FakeResolver::resolveHostName(const std::string& host, uint16_t port, Callback done) {
  lookups_.push_back(host);
  ResolveResult result;
  auto it = table_.find(host);
  if (it == table_.end()) {
    result.error = "Name or service not known";
  } else {
    for (const Address& a : it->second)
      result.addresses.push_back(*Address::fromIp(a.host(), port));
  }
  done(std::move(result));
}

}  // namespace spindle::testing
