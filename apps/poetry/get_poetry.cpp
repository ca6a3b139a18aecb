// get-poetry: the tutorial's poetry client 2.0 (and 2.1 with --simple, and get-poetry-stack.py
// with --stack) on spindle. Downloads a poem from every address at once.
#include <chrono>
#include <cstdio>
#include <cstdlib>
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

Exit status: 0 when every poem arrived, 1 when any failed or timed out, 2 on a usage error.)txt";

struct Options {
  std::optional<double> timeout;
  bool simple = false;
  std::string stack;  // "", "data" or "lost" (CLI11 gives "true" for a bare flag)
  std::vector<std::string> addresses;
};

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "get-poetry"};
  Options o;
  std::vector<spindle::HostPort> targets;
  if (auto code = parse(app, o, targets, argc, argv)) return *code;

  spindle::Reactor reactor;
  const auto start = std::chrono::steady_clock::now();
  std::size_t remaining = targets.size(), poems = 0;

  poetry::ClientEvents events;
  if (!o.simple) {
    events.chunk = [](int task, std::size_t bytes, const spindle::Address& peer) {
      println(stdout, fmt::format("Task {}: got {} bytes of poetry from {}", task, bytes, peer));
    };
  }
  if (o.stack == "data") events.firstData = [] { printChainAndExit("dataReceived"); };
  if (o.stack == "lost") events.firstLost = [] { printChainAndExit("connectionLost"); };
  events.done = [&](const poetry::TaskResult& r) {
    if (r.outcome == poetry::Outcome::Poem) {
      ++poems;
      if (o.simple) {
        fmt::print("{}{}\n", r.poem, r.poem.ends_with('\n') || r.poem.empty() ? "" : "\n");
        std::fflush(stdout);
      } else {
        println(stdout, poetry::describe(r, o.timeout));
      }
    } else {
      println(stderr, poetry::describe(r, o.timeout));
    }
    if (--remaining == 0) reactor.callWhenRunning([&reactor] { reactor.stop(); });
  };

  // Declared after the reactor so they go first: a factory cancels its own pending timer.
  std::vector<std::shared_ptr<poetry::PoetryClientFactory>> factories;
  std::vector<std::shared_ptr<spindle::Connector>> connectors;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    auto factory = std::make_shared<poetry::PoetryClientFactory>(reactor, static_cast<int>(i + 1),
                                                                 targets[i], o.timeout, events);
    factories.push_back(factory);
    connectors.push_back(reactor.connectTCP(targets[i].host, targets[i].port, factory));
  }

  reactor.run();

  if (!o.simple) {
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    println(stdout, fmt::format("Got {} poems in {}", poems, poetry::formatElapsed(elapsed)));
  }
  return poems == targets.size() ? 0 : 1;
}
