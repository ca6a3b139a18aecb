#include "poetry_processes.hpp"

#include <sstream>

namespace poetry_test {

Server startServer(std::vector<std::string> args) {
  return spindle::test::spawnServer(POETRY_SERVER_BIN, std::move(args));
}

std::unique_ptr<Child> runClient(std::vector<std::string> args, Millis timeout) {
  return spindle::test::runToExit(GET_POETRY_BIN, std::move(args), timeout);
}

std::string poemPath(std::string_view name) {
  return std::string(POETRY_DIR) + "/" + std::string(name);
}

std::vector<std::string> linesWith(const std::string& text, std::string_view needle) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) lines.push_back(line);
  }
  return lines;
}

std::size_t utf8Length(std::string_view text) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < text.size(); ++n) {
    auto c = static_cast<unsigned char>(text[i]);
    i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  }
  return n;
}

}  // namespace poetry_test
