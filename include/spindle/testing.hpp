// Deterministic doubles for tests of protocols: a string transport, a fake clock, a fake resolver.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "spindle/delayed_call.hpp"
#include "spindle/protocol.hpp"
#include "spindle/resolver.hpp"
#include "spindle/transport.hpp"

namespace spindle::testing {

/// A Transport that records what the protocol does instead of touching a socket (Twisted's
/// StringTransport). Nothing happens to the protocol unless the test says so.
class StringTransport : public Transport {
 public:
  explicit StringTransport(Address host = *Address::fromIp("127.0.0.1", 10000),
                           Address peer = *Address::fromIp("192.0.2.1", 1234));

  void write(std::string_view data) override;
  void writeSequence(std::span<const std::string_view> data) override;
  using Transport::loseConnection;
  using Transport::write;
  using Transport::writeSequence;
  void loseConnection(const Failure& reason) override;
  /// Records the half-close; writes are still recorded (a test checks what came after it).
  void loseWriteConnection() override { writeDisconnected_ = true; }
  /// True after loseWriteConnection.
  bool writeDisconnected() const noexcept { return writeDisconnected_; }
  void abortConnection() override {
    disconnecting_ = true;
    aborted_ = true;
  }
  /// True after loseConnection or abortConnection.
  bool disconnecting() const override { return disconnecting_; }
  /// True after abortConnection.
  bool aborted() const noexcept { return aborted_; }
  /// The reason given to the first loseConnection (ConnectionDone for the plain one), if any.
  const std::optional<Failure>& closeReason() const noexcept { return closeReason_; }
  Address getPeer() const override { return peer_; }
  Address getHost() const override { return host_; }
  void pauseProducing() override { producerState = "paused"; }
  void resumeProducing() override { producerState = "producing"; }
  void stopProducing() override { producerState = "stopped"; }
  std::size_t bufferedSize() const override { return 0; }
  void registerProducer(Producer& producer, bool streaming) override;
  void unregisterProducer() override {
    producer_ = nullptr;
    streaming_ = false;
  }
  void setWriteBufferWaterMarks(std::size_t high, std::size_t low) override;
  /// The registered producer, or nullptr.
  Producer* producer() const noexcept { return producer_; }
  bool streaming() const noexcept { return streaming_; }
  void setTcpNoDelay(bool enabled) override { noDelay_ = enabled; }
  bool getTcpNoDelay() const override { return noDelay_; }
  void setTcpKeepAlive(bool enabled) override { keepAlive_ = enabled; }
  bool getTcpKeepAlive() const override { return keepAlive_; }

  /// Everything written so far.
  const std::string& value() const noexcept { return written_; }
  /// Forgets what was written.
  void clear() { written_.clear(); }

  /// "producing", "paused" or "stopped".
  std::string producerState = "producing";

 private:
  Address host_, peer_;
  std::string written_;
  bool disconnecting_ = false, aborted_ = false, writeDisconnected_ = false;
  std::optional<Failure> closeReason_;
  Producer* producer_ = nullptr;
  bool streaming_ = false;
  bool noDelay_ = false, keepAlive_ = false;
};

/// Connects `protocol` to `transport` (makeConnection) for a test.
void connect(Protocol& protocol, StringTransport& transport);

/// A fake clock for tests (Twisted's task.Clock): time moves only when the test calls advance().
/// Timed calls follow exactly the rules of the reactor's, through the same timer code.
class Clock : public IReactorTime {
 public:
  Clock();
  ~Clock() override;
  double seconds() const override { return now_; }
  DelayedCall callLater(double delay, std::function<void()> fn) override;
  using IReactorTime::callLater;
  std::vector<DelayedCall> getDelayedCalls() const override;

  /// Moves time forward by `amount` seconds and runs one pass of the calls now due, as one
  /// reactor step does. Calls they schedule for now run at the next advance(), even advance(0).
  void advance(double amount);
  /// advance() by each amount in turn.
  void pump(const std::vector<double>& amounts);

 private:
  double now_ = 0;
  std::unique_ptr<detail::TimerQueue> timers_;
};

/// A Resolver answering from a table the test fills in; unknown names fail like a DNS miss.
/// Answers are delivered synchronously, inside resolveHostName.
class FakeResolver : public Resolver {
 public:
  /// Makes `host` resolve to `addresses` (their ports are replaced by the requested port).
  void add(const std::string& host, std::vector<Address> addresses);
  void resolveHostName(const std::string& host, uint16_t port, Callback done) override;
  /// Every name looked up so far, in order.
  const std::vector<std::string>& lookups() const noexcept { return lookups_; }

 private:
  std::map<std::string, std::vector<Address>> table_;
  std::vector<std::string> lookups_;
};

}  // namespace spindle::testing
