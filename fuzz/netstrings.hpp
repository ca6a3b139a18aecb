// The reference model of netstrings, shared by the netstring and transport-ops targets.
#pragma once

#include <climits>

#include "framing.hpp"

namespace fuzz {

inline bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// The netstrings of the whole stream, with Twisted's rules: a length is digits without sign or
// leading zero, at most MAX_LENGTH, followed by ':'; the payload by ','. A fault is reported as
// soon as the bytes show it, so a length over MAX_LENGTH fails before its colon arrives.
inline Outcome modelNetstrings(const Config& cfg) {
  Outcome out;
  std::string_view s = cfg.stream;
  std::size_t pos = 0;
  auto broken = [&out] {
    out.close("spindle::NetstringParseError");
    return out;
  };
  while (pos < s.size()) {
    if (!isDigit(s[pos])) return broken();
    std::size_t i = pos;
    unsigned __int128 length = 0;
    for (; i < s.size() && isDigit(s[i]); ++i) {
      if (i == pos + 1 && s[pos] == '0') return broken();
      length = length * 10 + unsigned(s[i] - '0');
      // The library also stops where one more digit could overflow size_t.
      if (length > cfg.maxLength || length > (SIZE_MAX - 9) / 10) return broken();
    }
    if (i == s.size()) {
      out.buffered = s.substr(pos);
      return out;
    }
    if (s[i] != ':') return broken();
    std::size_t start = i + 1, n = static_cast<std::size_t>(length);
    if (s.size() - start < n + 1) {
      out.buffered = s.substr(start);  // the length is consumed once its colon arrived
      return out;
    }
    if (s[start + n] != ',') return broken();
    out.add(Event::Kind::Frame, s.substr(start, n));
    pos = start + n + 1;
  }
  return out;
}

}  // namespace fuzz
