// Chapter 3 of the guide: getPoetry, returning a Deferred<std::string>. The client of chapter 2
// with its two callbacks replaced by one Deferred, which also lets the caller cancel the
// download. Chapters 3 and 4 both use it, unchanged.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spindle/spindle.hpp>

namespace guide {

class PoetryClientFactory;

class PoetryProtocol : public spindle::ProtocolFor<PoetryClientFactory> {
 public:
  void dataReceived(std::string_view data) override { poem_ += data; }
  void connectionLost(const spindle::Failure& reason) override;

 private:
  std::string poem_;
};

// [snippet factory]
// Fires its Deferred once: with the poem, or with the reason there is none.
class PoetryClientFactory : public spindle::ClientFactory {
 public:
  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address&) override {
    return makeProtocol<PoetryProtocol>();
  }

  void poemFinished(const std::string& poem, const spindle::Failure& reason) {
    if (deferred.called()) return;  // cancelled: the caller has its answer already
    if (reason.check<spindle::ConnectionDone>()) {
      deferred.callback(poem);
    } else {
      deferred.errback(reason);
    }
  }

  void clientConnectionFailed(spindle::Connector&, const spindle::Failure& reason) override {
    if (!deferred.called()) deferred.errback(reason);
  }

  spindle::Deferred<std::string> deferred;
};

inline void PoetryProtocol::connectionLost(const spindle::Failure& reason) {
  factory().poemFinished(poem_, reason);
}
// [end]

// [snippet getPoetry]
// Downloads a poem from `server`. The Deferred fires with the poem, or fails with why there is
// none (ConnectionRefusedError, ConnectionLost, ...). Cancelling it stops the download.
inline spindle::Deferred<std::string> getPoetry(spindle::Reactor& reactor,
                                                const spindle::HostPort& server) {
  auto factory = std::make_shared<PoetryClientFactory>();
  std::weak_ptr<spindle::Connector> connector =
      reactor.connectTCP(server.host, server.port, factory);
  // The canceller: stop connecting, or close the connection. The Deferred then fails with
  // CancelledError at once; the factory hears the close later and finds it called().
  // Weak, because the reactor owns the connector, which owns the factory, which owns this.
  factory->deferred = spindle::Deferred<std::string>([connector] {
    if (auto c = connector.lock()) c->disconnect();
  });
  return factory->deferred;
}
// [end]

}  // namespace guide
