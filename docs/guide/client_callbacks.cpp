// Chapter 2 of the guide: the poetry client turned into a function, getPoetry, that any code can
// call. It takes two callbacks, one for the poem and one for the error, and calls exactly one of
// them. main() is now just a user of getPoetry.
//
//   guide-client-callbacks [HOST:]PORT ...
//
// Exit status: 0 when every poem arrived, 1 when any download failed, 2 on a usage error.
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <spindle/spindle.hpp>

#include "guide_args.hpp"

// [snippet callbacks]
using PoemCallback = std::function<void(const std::string& poem)>;
using ErrorCallback = std::function<void(const spindle::Failure& reason)>;
// [end]

class PoetryClientFactory;

class PoetryProtocol : public spindle::ProtocolFor<PoetryClientFactory> {
 public:
  void dataReceived(std::string_view data) override { poem_ += data; }
  void connectionLost(const spindle::Failure& reason) override;

 private:
  std::string poem_;
};

// [snippet factory]
// One factory per download now: it holds that download's callbacks and knows nothing of the
// others, nor of the reactor.
class PoetryClientFactory : public spindle::ClientFactory {
 public:
  PoetryClientFactory(PoemCallback onPoem, ErrorCallback onError)
      : onPoem_(std::move(onPoem)), onError_(std::move(onError)) {}

  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address&) override {
    return makeProtocol<PoetryProtocol>();
  }

  void poemFinished(const std::string& poem, const spindle::Failure& reason) {
    if (reason.check<spindle::ConnectionDone>()) {
      onPoem_(poem);
    } else {
      onError_(reason);
    }
  }

  void clientConnectionFailed(spindle::Connector&, const spindle::Failure& reason) override {
    onError_(reason);
  }

 private:
  PoemCallback onPoem_;
  ErrorCallback onError_;
};

void PoetryProtocol::connectionLost(const spindle::Failure& reason) {
  factory().poemFinished(poem_, reason);
}

// Downloads a poem from `server`; calls onPoem with it, or onError with why it failed.
void getPoetry(spindle::Reactor& reactor, const spindle::HostPort& server, PoemCallback onPoem,
               ErrorCallback onError) {
  auto factory = std::make_shared<PoetryClientFactory>(std::move(onPoem), std::move(onError));
  reactor.connectTCP(server.host, server.port, factory);
}
// [end]

// [snippet main]
int main(int argc, char** argv) {
  guide::Args args = guide::parseArgs(argc, argv);

  spindle::Reactor reactor;
  // Waiting for several downloads is left to the caller: a counter, bumped by both callbacks.
  std::size_t remaining = args.servers.size();
  int status = 0;
  auto downloadOver = [&] {
    if (--remaining == 0) reactor.stop();
  };
  for (const spindle::HostPort& server : args.servers) {
    getPoetry(
        reactor, server,
        [&](const std::string& poem) {
          std::cout << poem << '\n';
          downloadOver();
        },
        [&, server](const spindle::Failure& reason) {
          std::cerr << "poem from " << server << " failed: " << reason.getErrorMessage() << '\n';
          status = 1;
          downloadOver();
        });
  }
  reactor.run();
  return status;
}
// [end]
