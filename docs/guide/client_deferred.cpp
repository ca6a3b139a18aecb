// Chapter 3 of the guide: the poetry client on Deferreds. getPoetry (get_poetry.hpp) returns a
// Deferred<std::string>; main() adds callbacks to each, waits for all of them with a
// DeferredList, and gives each download a deadline with addTimeout.
//
//   guide-client-deferred [--timeout SECONDS] [HOST:]PORT ...
//
// Exit status: 0 when every poem arrived, 1 when any download failed or timed out, 2 on a usage
// error.
#include <iostream>
#include <string>
#include <vector>

#include <spindle/spindle.hpp>

#include "get_poetry.hpp"
#include "guide_args.hpp"

// [snippet main]
int main(int argc, char** argv) {
  guide::Args args = guide::parseArgs(argc, argv, /*takesTimeout=*/true);
  spindle::Reactor reactor;

  std::vector<spindle::Deferred<void>> downloads;
  for (const spindle::HostPort& server : args.servers) {
    spindle::Deferred<std::string> poem = guide::getPoetry(reactor, server);
    // Past the deadline the download is cancelled, and fails with DeferredTimeoutError.
    if (args.timeout) poem.addTimeout(*args.timeout, reactor);
    downloads.push_back(poem.addCallback([](const std::string& text) { std::cout << text << '\n'; })
                            .addErrback([server](const spindle::Failure& reason) {
                              std::cerr << "poem from " << server
                                        << " failed: " << reason.getErrorMessage() << '\n';
                              return reason;  // still a failure: the DeferredList below counts it
                            }));
  }

  int status = 0;
  // consumeErrors: the list takes the failures over, so none is logged as unhandled.
  spindle::DeferredList(downloads, {.consumeErrors = true})
      .addCallback([&](const std::vector<spindle::Result<void>>& results) {
        for (const spindle::Result<void>& result : results) {
          if (result.failed()) status = 1;
        }
        reactor.stop();
      });
  reactor.run();
  return status;
}
// [end]
