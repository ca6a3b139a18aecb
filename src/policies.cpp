#include "spindle/policies.hpp"

#include <algorithm>

#include "spindle/log.hpp"
#include "spindle/tcp.hpp"

namespace spindle {

// --- ProtocolWrapper / WrappingFactory ---------------------------------------------------

ProtocolWrapper::ProtocolWrapper(WrappingFactory& factory, std::unique_ptr<Protocol> wrapped)
    : wrappingFactory_(&factory), wrapped_(std::move(wrapped)) {}

ProtocolWrapper::~ProtocolWrapper() {
  unregister();
}

void ProtocolWrapper::makeConnection(Transport& t) {
  wrappingFactory_->registerProtocol(*this);
  Protocol::makeConnection(t);
  wrapped_->makeConnection(t);
}

void ProtocolWrapper::connectionLost(const Failure& reason) {
  connected = false;
  // Unregister first: the wrapped protocol may drop the last reference to the factory.
  unregister();
  wrapped_->connectionLost(reason);
}

void ProtocolWrapper::unregister() {
  if (!wrappingFactory_) return;
  WrappingFactory* f = wrappingFactory_;
  wrappingFactory_ = nullptr;
  f->unregisterProtocol(*this);
}

WrappingFactory::WrappingFactory(std::shared_ptr<Factory> wrapped) : wrapped_(std::move(wrapped)) {
  if (!wrapped_) throw Error("WrappingFactory needs a factory to wrap");
}

std::unique_ptr<Protocol> WrappingFactory::buildProtocol(const Address& addr) {
  std::unique_ptr<Protocol> inner = wrapped_->buildProtocol(addr);
  if (!inner) return nullptr;
  if (!inner->factory()) inner->setFactory(wrapped_.get());
  return makeProtocol<ProtocolWrapper>(*this, std::move(inner));
}

void WrappingFactory::registerProtocol(ProtocolWrapper& p) {
  protocols_.insert(&p);
}

void WrappingFactory::unregisterProtocol(ProtocolWrapper& p) {
  protocols_.erase(&p);
}

// --- Connection limits -------------------------------------------------------------------

std::unique_ptr<Protocol> LimitTotalConnectionsFactory::buildProtocol(const Address& addr) {
  if (protocolCount() >= connectionLimit) {
    log::msg(log::Level::Warn, "Refusing connection from {}: {} connections open (the limit)", addr,
             protocolCount());
    return nullptr;
  }
  return WrappingFactory::buildProtocol(addr);
}

std::unique_ptr<Protocol> LimitConnectionsByPeer::buildProtocol(const Address& addr) {
  const std::string host = addr.host();
  if (connectionsFrom(host) >= maxConnectionsPerPeer) {
    log::msg(log::Level::Warn, "Refusing connection from {}: {} connections open from {}", addr,
             connectionsFrom(host), host);
    return nullptr;
  }
  std::unique_ptr<Protocol> p = WrappingFactory::buildProtocol(addr);
  if (p) {
    // Counted from here, not from makeConnection, so a refused protocol is never counted.
    ++perPeer_[host];
    peerOf_[static_cast<ProtocolWrapper*>(p.get())] = host;
  }
  return p;
}

void LimitConnectionsByPeer::unregisterProtocol(ProtocolWrapper& p) {
  WrappingFactory::unregisterProtocol(p);
  auto it = peerOf_.find(&p);
  if (it == peerOf_.end()) return;
  if (--perPeer_[it->second] == 0) perPeer_.erase(it->second);
  peerOf_.erase(it);
}

std::size_t LimitConnectionsByPeer::connectionsFrom(const std::string& host) const {
  auto it = perPeer_.find(host);
  return it == perPeer_.end() ? 0 : it->second;
}

// --- ReconnectingClientFactory -----------------------------------------------------------

ReconnectingClientFactory::ReconnectingClientFactory(IReactorTime& clock)
    : clock_(clock), delay_(initialDelay), rng_(std::random_device{}()) {}

ReconnectingClientFactory::~ReconnectingClientFactory() {
  if (call_.active()) call_.cancel();
}

void ReconnectingClientFactory::clientConnectionFailed(Connector& connector, const Failure&) {
  if (continueTrying_) retry(connector);
}

void ReconnectingClientFactory::clientConnectionLost(Connector& connector, const Failure&) {
  if (continueTrying_) retry(connector);
}

void ReconnectingClientFactory::retry() {
  if (!connector_) throw Error("no connector to retry");
  retry(*connector_);
}

void ReconnectingClientFactory::retry(Connector& connector) {
  if (!continueTrying_) return;
  connector_ = connector.shared_from_this();
  if (retries_ == 0) delay_ = initialDelay;  // honours an initialDelay set after construction
  ++retries_;
  if (maxRetries && retries_ > *maxRetries) {
    log::info("Abandoning {} after {} retries", connector.getDestination(), *maxRetries);
    return;
  }
  double wait = delay_;
  if (jitter > 0) wait = std::normal_distribution<double>(delay_, delay_ * jitter)(rng_);
  wait = std::clamp(wait, 0.0, maxDelay);
  delay_ = std::min(delay_ * factor, maxDelay);
  lastWait_ = wait;
  if (call_.active()) call_.cancel();
  // The pending retry keeps the connector (and so this factory) alive until it runs.
  call_ = clock_.callLater(wait, [c = connector_] {
    if (c->state() == Connector::State::Disconnected) c->connect();
  });
}

void ReconnectingClientFactory::stopTrying() {
  if (call_.active()) call_.cancel();
  continueTrying_ = false;
  if (connector_ && connector_->state() == Connector::State::Connecting) {
    try {
      connector_->stopConnecting();
    } catch (const Error&) {
      // Already failing: the failure arrives with continueTrying false and is not retried.
    }
  }
}

void ReconnectingClientFactory::resetDelay() {
  delay_ = initialDelay;
  retries_ = 0;
  continueTrying_ = true;
}

std::optional<double> ReconnectingClientFactory::pendingWait() const {
  if (!call_.active()) return std::nullopt;
  return lastWait_;
}

}  // namespace spindle
