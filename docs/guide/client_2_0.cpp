// Chapter 1 of the guide: the poetry client 2.0. One Protocol per connection collects a poem; one
// ClientFactory, shared by every connection, prints the poems and stops the reactor once every
// server has answered.
//
//   guide-client-2-0 [HOST:]PORT ...
//
// Exit status: 0 when every poem arrived, 1 when any download failed, 2 on a usage error.
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include <spindle/spindle.hpp>

#include "guide_args.hpp"

// [snippet protocol]
class PoetryClientFactory;

// One download. The server sends its poem and closes the connection, so the poem is complete
// only when the connection is lost; until then, every byte is kept.
class PoetryProtocol : public spindle::ProtocolFor<PoetryClientFactory> {
 public:
  void dataReceived(std::string_view data) override { poem_ += data; }
  void connectionLost(const spindle::Failure& reason) override;

 private:
  std::string poem_;
};
// [end]

// [snippet factory]
// Shared by every connection: builds their protocols and counts the downloads that are over.
class PoetryClientFactory : public spindle::ClientFactory {
 public:
  PoetryClientFactory(spindle::Reactor& reactor, std::size_t downloads)
      : reactor_(reactor), remaining_(downloads) {}

  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address&) override {
    return makeProtocol<PoetryProtocol>();  // sets the protocol's factory() to this
  }

  void poemFinished(const std::string& poem, const spindle::Failure& reason) {
    // ConnectionDone is a clean close: anything else cut the poem short.
    if (reason.check<spindle::ConnectionDone>()) {
      std::cout << poem << '\n';
    } else {
      report("the connection was lost", reason);
    }
    downloadOver();
  }

  void clientConnectionFailed(spindle::Connector& connector,
                              const spindle::Failure& reason) override {
    report("failed to connect to " + connector.getDestination().toString(), reason);
    downloadOver();
  }

  int exitStatus() const { return failed_ ? 1 : 0; }

 private:
  void report(const std::string& what, const spindle::Failure& reason) {
    std::cerr << what << ": " << reason.getErrorMessage() << '\n';
    failed_ = true;
  }
  void downloadOver() {
    if (--remaining_ == 0) reactor_.stop();
  }

  spindle::Reactor& reactor_;
  std::size_t remaining_;
  bool failed_ = false;
};

void PoetryProtocol::connectionLost(const spindle::Failure& reason) {
  factory().poemFinished(poem_, reason);
}
// [end]

// [snippet main]
int main(int argc, char** argv) {
  guide::Args args = guide::parseArgs(argc, argv);

  spindle::Reactor reactor;
  auto factory = std::make_shared<PoetryClientFactory>(reactor, args.servers.size());
  for (const spindle::HostPort& server : args.servers) {
    reactor.connectTCP(server.host, server.port, factory);
  }
  reactor.run();  // returns once downloadOver() has stopped it
  return factory->exitStatus();
}
// [end]
