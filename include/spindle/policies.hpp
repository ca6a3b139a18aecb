// Policies (Twisted's twisted.protocols.policies and ReconnectingClientFactory): wrappers that
// limit connections, idle timeouts, and reconnection with backoff.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_set>

#include "spindle/delayed_call.hpp"
#include "spindle/factory.hpp"
#include "spindle/protocol.hpp"

namespace spindle {

class WrappingFactory;

/// Stands between a transport and the protocol it wraps, forwarding every event; lets a
/// WrappingFactory see each connection begin and end. The wrapped protocol talks to the real
/// transport.
class ProtocolWrapper : public Protocol {
 public:
  ProtocolWrapper(WrappingFactory& factory, std::unique_ptr<Protocol> wrapped);
  ~ProtocolWrapper() override;
  void makeConnection(Transport& t) override;
  void dataReceived(std::string_view data) override { wrapped_->dataReceived(data); }
  void connectionLost(const Failure& reason) override;
  /// Half-close events go straight to the wrapped protocol, if it opted in.
  HalfCloseableProtocol* halfCloseable() noexcept override { return wrapped_->halfCloseable(); }
  Protocol& wrappedProtocol() const noexcept { return *wrapped_; }

 private:
  void unregister();
  WrappingFactory* wrappingFactory_;
  std::unique_ptr<Protocol> wrapped_;
};

/// A factory that wraps each protocol of another factory in a ProtocolWrapper and keeps count
/// of the live ones. Starting and stopping it starts and stops the wrapped factory.
class WrappingFactory : public ServerFactory {
 public:
  explicit WrappingFactory(std::shared_ptr<Factory> wrapped);
  std::unique_ptr<Protocol> buildProtocol(const Address& addr) override;
  void startFactory() override { wrapped_->doStart(); }
  void stopFactory() override { wrapped_->doStop(); }

  /// A wrapper's connection began (from makeConnection) or ended (connectionLost).
  virtual void registerProtocol(ProtocolWrapper& p);
  virtual void unregisterProtocol(ProtocolWrapper& p);

  Factory& wrappedFactory() const noexcept { return *wrapped_; }
  /// Connections open now.
  std::size_t protocolCount() const noexcept { return protocols_.size(); }

 private:
  std::shared_ptr<Factory> wrapped_;
  std::unordered_set<ProtocolWrapper*> protocols_;
};

/// Refuses connections (closes them at once) while `connectionLimit` are open.
class LimitTotalConnectionsFactory : public WrappingFactory {
 public:
  LimitTotalConnectionsFactory(std::shared_ptr<Factory> wrapped, std::size_t limit)
      : WrappingFactory(std::move(wrapped)), connectionLimit(limit) {}
  std::unique_ptr<Protocol> buildProtocol(const Address& addr) override;
  std::size_t connectionCount() const noexcept { return protocolCount(); }
  /// Settable; applies to the next connection.
  std::size_t connectionLimit;
};

/// Refuses a connection when its peer's IP address already has `maxConnectionsPerPeer` open.
class LimitConnectionsByPeer : public WrappingFactory {
 public:
  LimitConnectionsByPeer(std::shared_ptr<Factory> wrapped, std::size_t maxPerPeer = 5)
      : WrappingFactory(std::move(wrapped)), maxConnectionsPerPeer(maxPerPeer) {}
  std::unique_ptr<Protocol> buildProtocol(const Address& addr) override;
  void unregisterProtocol(ProtocolWrapper& p) override;
  /// Connections open now from `host` (an IP address as text).
  std::size_t connectionsFrom(const std::string& host) const;
  std::size_t maxConnectionsPerPeer;

 private:
  std::map<std::string, std::size_t> perPeer_;
  std::map<const ProtocolWrapper*, std::string> peerOf_;
};

/// Adds an idle timeout to a protocol (Twisted's TimeoutMixin): `class Chat : public
/// TimeoutMixin<LineReceiver>`. Every dataReceived resets the timer (Twisted leaves that to the
/// protocol); when it runs out, timeoutConnection() is called. The timer is cancelled when the
/// connection is lost and when the protocol is destroyed, so it never fires on a dead protocol.
template <class Base = Protocol>
class TimeoutMixin : public Base {
 public:
  template <class... A>
  explicit TimeoutMixin(IReactorTime& clock, A&&... args)
      : Base(std::forward<A>(args)...), clock_(&clock) {}
  ~TimeoutMixin() override { cancelTimer(); }

  /// Drops the connection after `seconds` without traffic; nullopt turns the timeout off.
  /// Returns the previous setting.
  std::optional<double> setTimeout(std::optional<double> seconds) {
    std::optional<double> previous = timeOut_;
    timeOut_ = seconds;
    if (!seconds) {
      cancelTimer();
    } else if (call_.active()) {
      call_.reset(*seconds);
    } else {
      call_ = clock_->callLater(*seconds, [this] { timedOut(); });
    }
    return previous;
  }
  /// Restarts the countdown (when a timeout is set).
  void resetTimeout() {
    if (timeOut_ && call_.active()) call_.reset(*timeOut_);
  }
  std::optional<double> timeOut() const noexcept { return timeOut_; }

  /// The timeout ran out. The default closes the connection (after flushing) with
  /// IdleTimeoutError as the reason.
  virtual void timeoutConnection() {
    if (this->transport) this->transport->loseConnection(Failure(IdleTimeoutError(*timeOut_)));
  }

  void dataReceived(std::string_view data) override {
    resetTimeout();
    Base::dataReceived(data);
  }
  void connectionLost(const Failure& reason) override {
    cancelTimer();
    Base::connectionLost(reason);
  }

 private:
  void timedOut() { timeoutConnection(); }
  void cancelTimer() {
    if (call_.active()) call_.cancel();
  }
  IReactorTime* clock_;
  std::optional<double> timeOut_;
  DelayedCall call_;
};

/// A client factory that reconnects after every failure or lost connection, waiting longer each
/// time (Twisted's ReconnectingClientFactory).
///
/// Decided where Twisted is loose: the first retry waits `initialDelay` (Twisted waits
/// initialDelay × factor); each later one multiplies the delay by `factor` up to `maxDelay`;
/// jitter draws the wait from a normal distribution around the delay (standard deviation
/// delay × jitter) and the result is clamped to [0, maxDelay], so jitter never exceeds it.
/// Call resetDelay() once connected (e.g. in buildProtocol) to start over after the next loss.
class ReconnectingClientFactory : public ClientFactory {
 public:
  explicit ReconnectingClientFactory(IReactorTime& clock);
  ~ReconnectingClientFactory() override;

  double maxDelay = 3600;
  double initialDelay = 1.0;
  double factor = 2.7182818284590451;
  double jitter = 0.11962656472;
  /// Gives up after this many retries in a row; unlimited when empty.
  std::optional<int> maxRetries;

  void clientConnectionFailed(Connector& connector, const Failure& reason) override;
  void clientConnectionLost(Connector& connector, const Failure& reason) override;

  /// Schedules the next attempt of `connector` (or of the last connector seen).
  void retry();
  void retry(Connector& connector);
  /// Stops retrying: cancels a scheduled retry and any attempt under way.
  void stopTrying();
  /// Back to initialDelay and zero retries, and trying again if stopped.
  void resetDelay();

  /// The delay the next retry is based on, before jitter.
  double delay() const noexcept { return delay_; }
  /// Retries made since the last resetDelay().
  int retries() const noexcept { return retries_; }
  bool continueTrying() const noexcept { return continueTrying_; }
  /// The wait before the scheduled retry (after jitter), if one is scheduled.
  std::optional<double> pendingWait() const;
  /// Makes the jitter reproducible.
  void seed(std::uint32_t value) { rng_.seed(value); }

 private:
  IReactorTime& clock_;
  double delay_;
  int retries_ = 0;
  bool continueTrying_ = true;
  std::shared_ptr<Connector> connector_;
  DelayedCall call_;
  double lastWait_ = 0;
  std::mt19937 rng_;
};

}  // namespace spindle
