// Chapter 4 of the guide: the poetry client as coroutines. getPoetry (get_poetry.hpp) is the
// Deferred-returning function of chapter 3, unchanged; the code that uses it is written as
// Task coroutines, which co_await Deferreds and catch their failures as exceptions.
//
//   guide-client-coroutine [--timeout SECONDS] [HOST:]PORT ...
//
// A refused connection is tried again a few times before it counts as a failure.
// Exit status: 0 when every poem arrived, 1 when any download failed or timed out, 2 on a usage
// error.
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <spindle/spindle.hpp>

#include "get_poetry.hpp"
#include "guide_args.hpp"

// [snippet getPoem]
constexpr int kAttempts = 3;
constexpr double kRetryDelay = 0.2;  // seconds

// Downloads a poem from `server`, trying again when the connection is refused (the server may
// still be starting). With callbacks this loop would be a chain that re-adds itself.
spindle::Task<std::string> getPoem(spindle::Reactor& reactor, spindle::HostPort server) {
  for (int attempt = 1;; ++attempt) {
    try {
      co_return co_await guide::getPoetry(reactor, server);
    } catch (const spindle::ConnectionRefusedError&) {
      if (attempt == kAttempts) throw;  // out of the coroutine: its Deferred fails with it
    }
    co_await spindle::deferLater(reactor, kRetryDelay);  // (no co_await inside a catch block)
  }
}
// [end]

// [snippet printPoems]
// Starts every download at once, then prints the poems in command-line order. Returns the exit
// status.
spindle::Task<int> printPoems(spindle::Reactor& reactor, std::vector<spindle::HostPort> servers,
                              std::optional<double> timeout) {
  std::vector<spindle::Deferred<std::string>> poems;
  for (const spindle::HostPort& server : servers) {
    spindle::Deferred<std::string> poem = getPoem(reactor, server);  // runs to its first co_await
    // Cancelling a Task cancels what it awaits: the download, or the wait between attempts.
    if (timeout) poem.addTimeout(*timeout, reactor);
    poems.push_back(poem);
  }
  int status = 0;
  for (std::size_t i = 0; i < poems.size(); ++i) {
    try {
      std::string poem = co_await poems[i];
      std::cout << poem << '\n';
    } catch (const std::exception& e) {
      std::cerr << "poem from " << servers[i] << " failed: " << e.what() << '\n';
      status = 1;
    }
  }
  co_return status;
}
// [end]

// [snippet main]
int main(int argc, char** argv) {
  guide::Args args = guide::parseArgs(argc, argv, /*takesTimeout=*/true);
  spindle::Reactor reactor;

  int status = 1;
  spindle::ensureDeferred(printPoems(reactor, args.servers, args.timeout))
      .addCallback([&](int result) {
        status = result;
        reactor.stop();
      });
  reactor.run();
  return status;
}
// [end]
