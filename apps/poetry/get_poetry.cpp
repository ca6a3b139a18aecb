// get-poetry: the tutorial's poetry client (2.0 output; 2.1 with --simple; get-poetry-stack.py
// with --stack; the transform client with --transform) on spindle, built on getPoetry and
// DeferredList. Downloads a poem from every address at once.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <spindle/spindle.hpp>

#include "call_chain.hpp"
#include "poetry.hpp"

namespace {

constexpr int kUsageError = 2;

constexpr const char* kDescription = R"txt(Download poems from slow poetry servers, all at once.

Each address is PORT (on 127.0.0.1), HOST:PORT or [IPV6]:PORT. For every chunk received it
prints "Task N: got B bytes of poetry from HOST:PORT", for every poem that arrives
"Task N: C characters of poetry" (C counts UTF-8 code points), and at the end
"Got K poems in H:MM:SS.ffffff" (the elapsed wall-clock time). Failures ("Failed to connect to:
HOST:PORT (REASON)", "Task N: connection lost (REASON)", "Task N: timed out after S seconds")
go to stderr. A poem counts only if the server closed the connection cleanly.

With --transform NAME --transform-server ADDRESS each poem is sent to the transform service
(transform-server) once it arrives and replaced by its answer; when the service fails, the poem
is kept as it came and stderr says "Task N: transform NAME failed (REASON); using the
untransformed poem" (the poem still counts).

Exit status: 0 when every poem arrived, 1 when any failed or timed out, 2 on a usage error.)txt";

struct Options {
  std::optional<double> timeout;
  bool simple = false;
  std::string stack;  // "", "data" or "lost" (CLI11 gives "true" for a bare flag)
  std::vector<std::string> addresses;
  std::string transform;  // the transform's name, or empty
  std::string transformServerText;
  spindle::HostPort transformServer;
};

// Checks --transform and --transform-server together; an error message, or empty.
std::string checkTransform(Options& o) {
  if (o.transform.empty() != o.transformServerText.empty()) {
    return "--transform and --transform-server go together";
  }
  if (o.transform.empty()) return {};
  if (o.transform.find('.') != std::string::npos) {
    return fmt::format("--transform: '{}' is not a transform name (it has a '.')", o.transform);
  }
  try {
    o.transformServer = poetry::parseAddress(o.transformServerText);
  } catch (const poetry::AddressError& e) {
    return fmt::format("bad --transform-server: {}", e.what());
  }
  return {};
}

std::optional<int> usageError(const CLI::App& app, const std::string& message) {
  fmt::print(stderr, "get-poetry: {}\n\n{}", message, app.help());
  return kUsageError;
}

// Parses the command line into `o` and `targets`; returns an exit code to stop with.
std::optional<int> parse(CLI::App& app, Options& o, std::vector<spindle::HostPort>& targets,
                         int argc, char** argv) {
  double timeout = 0;
  auto* timeoutOpt =
      app.add_option("--timeout", timeout, "Give up on a poem not complete after SECONDS")
          ->check(CLI::PositiveNumber)
          ->type_name("SECONDS");
  app.add_flag("--simple", o.simple,
               "Print only the poems, each followed by a blank line (client 2.1)");
  app.add_flag("--stack", o.stack,
               "Print the call chain from the reactor to the first dataReceived and exit 0; "
               "--stack=lost: to the first connectionLost")
      ->option_text("[=lost]");
  app.add_option("--transform", o.transform,
                 "Transform each poem with the transform NAME of the --transform-server")
      ->type_name("NAME")
      ->check([](const std::string& v) { return v.empty() ? "must not be empty" : ""; });
  app.add_option("--transform-server", o.transformServerText,
                 "The transform service's [HOST:]PORT or [IPV6]:PORT")
      ->type_name("ADDRESS");
  app.add_option("address", o.addresses, "[HOST:]PORT or [IPV6]:PORT")->type_name("ADDRESS");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usageError(app, e.what());
  }
  if (*timeoutOpt) o.timeout = timeout;
  if (o.stack == "true") o.stack = "data";  // a bare --stack
  if (o.stack != "" && o.stack != "data" && o.stack != "lost") {
    return usageError(app, fmt::format("--stack takes no value or =lost, not '{}'", o.stack));
  }
  if (auto error = checkTransform(o); !error.empty()) return usageError(app, error);
  if (o.addresses.empty()) return usageError(app, "no address given");
  for (const auto& text : o.addresses) {
    try {
      targets.push_back(poetry::parseAddress(text));
    } catch (const poetry::AddressError& e) {
      return usageError(app, fmt::format("bad address: {}", e.what()));
    }
  }
  return std::nullopt;
}

void println(std::FILE* out, std::string_view line) {
  fmt::print(out, "{}\n", line);
  std::fflush(out);
}

// get-poetry-stack.py: print how the reactor got here, then leave at once as os._exit(0) does.
[[noreturn]] void printChainAndExit(std::string_view callback) {
  auto frames = poetry::trimCallChain(poetry::captureCallChain(), "spindle::Reactor::run",
                                      fmt::format("PoetryProtocol::{}", callback));
  fmt::print("Call chain from reactor.run() to {}, innermost last:\n{}", callback,
             poetry::formatCallChain(frames));
  std::fflush(stdout);
  std::_Exit(0);
}

// One task: the poem from `address`, then, with --transform, the transform service's version
// of it, or the poem as it came when the service fails (said on stderr).
spindle::Task<std::string> fetchTask(spindle::Reactor& reactor, const Options& o, int task,
                                     spindle::HostPort address, poetry::FetchOptions fetch) {
  std::string poem = co_await poetry::getPoetry(reactor, address.host, address.port, fetch);
  if (o.transform.empty()) co_return poem;
  std::optional<spindle::Failure> failed;
  try {
    co_return co_await poetry::transformPoem(reactor, o.transformServer.host,
                                             o.transformServer.port, o.transform, poem, o.timeout);
  } catch (...) {
    failed.emplace(std::current_exception());
  }
  println(stderr, fmt::format("Task {}: transform {} failed ({}); using the untransformed poem",
                              task, o.transform, failed->getErrorMessage()));
  co_return poem;
}

// The report of one finished task, as it finishes.
void report(const Options& o, int task, const spindle::HostPort& address,
            const spindle::Result<std::string>& r) {
  if (r.failed()) {
    println(stderr, poetry::describe(task, address, r, o.timeout));
  } else if (o.simple) {
    const std::string& poem = r.value();
    fmt::print("{}{}\n", poem, poem.ends_with('\n') || poem.empty() ? "" : "\n");
    std::fflush(stdout);
  } else {
    println(stdout, poetry::describe(task, address, r, o.timeout));
  }
}

// The fetch options of task `task`: the timeout, and the chunk lines (or --stack's hook).
poetry::FetchOptions fetchOptions(const Options& o, int task) {
  poetry::FetchOptions fetch;
  fetch.timeout = o.timeout;
  if (o.stack == "data") {
    fetch.onChunk = [](std::size_t, const spindle::Address&) { printChainAndExit("dataReceived"); };
  } else if (!o.simple) {
    fetch.onChunk = [task](std::size_t bytes, const spindle::Address& peer) {
      println(stdout, fmt::format("Task {}: got {} bytes of poetry from {}", task, bytes, peer));
    };
  }
  return fetch;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "get-poetry"};
  Options o;
  std::vector<spindle::HostPort> targets;
  if (auto code = parse(app, o, targets, argc, argv)) return *code;

  spindle::Reactor reactor;
  const auto start = std::chrono::steady_clock::now();

  std::vector<spindle::Deferred<std::string>> tasks;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    int task = static_cast<int>(i + 1);
    spindle::Deferred<std::string> d =
        fetchTask(reactor, o, task, targets[i], fetchOptions(o, task));
    if (o.stack == "lost") {
      // The poem's end runs this chain from inside PoetryProtocol::connectionLost.
      d = d.addBoth([](spindle::Result<std::string> r) {
        if (r.succeeded() || r.failure().check<spindle::ConnectionClosed>()) {
          printChainAndExit("connectionLost");
        }
        return r;
      });
    }
    tasks.push_back(d.addBoth([&o, task, address = targets[i]](spindle::Result<std::string> r) {
      report(o, task, address, r);
      return r;  // a failure goes on to the list, which consumes it
    }));
  }
  std::size_t poems = 0;
  spindle::DeferredList(std::move(tasks), {.consumeErrors = true})
      .addCallback([&](const std::vector<spindle::Result<std::string>>& results) {
        for (const auto& r : results)
          poems += r.succeeded();
        // Every task may have failed before run(), on a synchronous connect failure.
        reactor.callWhenRunning([&reactor] { reactor.stop(); });
      });

  reactor.run();

  if (!o.simple) {
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    println(stdout, fmt::format("Got {} poems in {}", poems, poetry::formatElapsed(elapsed)));
  }
  return poems == targets.size() ? 0 : 1;
}
