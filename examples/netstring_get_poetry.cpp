// netstring-get-poetry: the tutorial's poetry client on NetstringReceiver. Downloads a poem from
// every server at once; each arrives as two netstrings, its title and its text.
//
//   netstring-get-poetry [HOST:]PORT ...
//
// For each poem it prints `Task N: "TITLE" (C characters)` (C counts UTF-8 code points) and then
// the poem; failures go to stderr. Exit status: 0 when every poem arrived, 1 otherwise, 2 on a
// usage error.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spindle/spindle.hpp>

#include "example_cli.hpp"
#include "netstring_poetry.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Netstring poetry client: downloads a titled poem from every server at once.",
               "netstring-get-poetry"};
  std::vector<std::string> addresses;
  app.add_option("address", addresses, "A server: PORT (on 127.0.0.1), HOST:PORT or [IPV6]:PORT")
      ->required()
      ->check(examples::kHostPort);
  if (auto status = examples::parse(app, argc, argv)) return *status;

  spindle::Reactor reactor;
  std::size_t remaining = addresses.size(), poems = 0;
  auto poemDone = [&](const netstring_poetry::PoemResult& r) {
    if (r.ok) {
      ++poems;
      bool newline = r.poem.empty() || r.poem.ends_with('\n');
      fmt::print("Task {}: \"{}\" ({} characters)\n{}{}", r.task, r.title,
                 netstring_poetry::countCharacters(r.poem), r.poem, newline ? "" : "\n");
      std::fflush(stdout);
    } else {
      fmt::print(stderr, "Task {}: {} from {}\n", r.task, r.error, r.address);
    }
    if (--remaining == 0) reactor.stop();
  };

  std::vector<std::shared_ptr<netstring_poetry::PoetryClientFactory>> factories;
  for (const auto& text : addresses) {
    spindle::HostPort address = *examples::parseHostPort(text);
    auto factory = std::make_shared<netstring_poetry::PoetryClientFactory>(
        static_cast<int>(factories.size() + 1), address, poemDone);
    factories.push_back(factory);
    reactor.connectTCP(address.host, address.port, factory);
  }
  reactor.run();
  return poems == addresses.size() ? 0 : 1;
}
