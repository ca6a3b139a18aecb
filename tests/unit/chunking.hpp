// Feeds one input to a fresh protocol in every way the bytes can be split, for framing tests.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace spindle::test {

/// The ways to split `input` that framing must not notice: whole, byte by byte, and in two
/// pieces at every possible point.
inline std::vector<std::vector<std::string>> chunkings(std::string_view input) {
  std::vector<std::vector<std::string>> out;
  out.push_back({std::string(input)});
  std::vector<std::string> bytes;
  for (char c : input)
    bytes.emplace_back(1, c);
  out.push_back(bytes);
  for (std::size_t i = 1; i < input.size(); ++i) {
    out.push_back({std::string(input.substr(0, i)), std::string(input.substr(i))});
  }
  return out;
}

}  // namespace spindle::test
