#include "poetry_processes.hpp"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

namespace poetry_test {

Server startServer(std::vector<std::string> args) {
  return spindle::test::spawnServer(POETRY_SERVER_BIN, std::move(args));
}

Server startTransformServer(std::vector<std::string> args) {
  return spindle::test::spawnServer(TRANSFORM_SERVER_BIN, std::move(args));
}

Server startProxy(std::vector<std::string> args) {
  return spindle::test::spawnServer(POETRY_PROXY_BIN, std::move(args));
}

void expectCleanStop(Server& server) {
  if (!server.child) return;
  server.child->signal(SIGTERM);
  EXPECT_EQ(server.child->wait(), 0) << "no clean stop on SIGTERM; stderr:\n"
                                     << server.child->err();
  for (const char* marker : {"Sanitizer", "runtime error:"}) {
    EXPECT_EQ(server.child->err().find(marker), std::string::npos) << server.child->err();
  }
}

std::unique_ptr<Child> runClient(std::vector<std::string> args, Millis timeout) {
  return spindle::test::runToExit(GET_POETRY_BIN, std::move(args), timeout);
}

std::unique_ptr<Child> runProxy(std::vector<std::string> args, Millis timeout) {
  return spindle::test::runToExit(POETRY_PROXY_BIN, std::move(args), timeout);
}

std::string poemPath(std::string_view name) {
  return std::string(POETRY_DIR) + "/" + std::string(name);
}

TempPoem::TempPoem(std::size_t bytes) {
  const std::string line = "Warp and weft, the loom keeps on; a poem too big for any buffer.\n";
  text_.reserve(bytes);
  while (text_.size() < bytes)
    text_.append(line, 0, std::min(line.size(), bytes - text_.size()));
  std::string pattern = (std::filesystem::temp_directory_path() / "poemXXXXXX").string();
  int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  path_ = pattern;
  std::ofstream(path_, std::ios::binary) << text_;
}

TempPoem::~TempPoem() {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
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
