// netstring-poetry-server: the tutorial's poetry server on NetstringReceiver. Every client gets
// two netstrings, the poem's title and then the poem, and the server closes.
//
//   netstring-poetry-server [--port N] [--iface ADDR] [--title TITLE] POETRY-FILE
//
// The title is the file's name without its extension unless --title is given.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <spindle/spindle.hpp>

#include "example_cli.hpp"
#include "netstring_poetry.hpp"

namespace {

std::optional<std::string> readPoem(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return std::nullopt;
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Netstring poetry server: sends a poem's title and text as two netstrings.",
               "netstring-poetry-server"};
  examples::ServerOptions options;
  examples::addServerOptions(app, options);
  std::optional<std::string> title;
  std::string file;
  app.add_option("--title", title, "The poem's title (default: the file name without extension)");
  app.add_option("poetry-file", file, "The poem to serve")->required();
  if (auto status = examples::parse(app, argc, argv)) return *status;

  auto poem = readPoem(file);
  if (!poem) {
    fmt::print(stderr, "{}: cannot read the poem {}\n", app.get_name(), file);
    return examples::kUsageError;
  }

  spindle::Reactor reactor;
  auto factory = std::make_shared<netstring_poetry::PoetryServerFactory>(
      title.value_or(std::filesystem::path(file).stem().string()), std::move(*poem));
  auto port = examples::listen(reactor, options, factory, app.get_name());
  if (!port) return 1;
  // Announce from inside run(), once the signal handlers are in: a parent that sends SIGINT
  // as soon as it reads this line then always gets a clean stop.
  reactor.callWhenRunning(
      [&] { examples::say("Serving {} on port {}.", file, port->getHost().port()); });
  reactor.run({.installSignalHandlers = true});
  return 0;
}
