// Shared by the two line targets: how their input is decoded, the reference model of line
// splitting, and the re-encoding of what a receiver delivered.
//
// Input: byte 0 picks MAX_LENGTH, byte 1 the delimiter (low nibble) and the one a "SWAP" line
// switches to (high nibble), byte 2 seeds the split points; the rest is the stream. A line
// "SWAP" toggles the delimiter; with raw mode, a line "RAW" switches to raw mode and a '~' in raw
// data back to line mode, with the bytes after it (setLineMode(extra)).
#pragma once

#include <optional>

#include "framing.hpp"

namespace fuzz {

inline std::optional<Config> lineConfig(const uint8_t* data, std::size_t size) {
  // Small limits reach the too-long paths; self-overlapping delimiters ("xyx", "aab") and ones
  // longer than a read test the resumed delimiter search.
  static const std::size_t kMax[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 16, 32, 64, 100, 1000, 16384};
  static const std::string kDelimiters[] = {"\r\n", "\n",  std::string(1, '\0'), "ab",
                                            "aab",  "xyx", "\r\n\r\n",           "||"};
  if (size < 3) return std::nullopt;
  Config cfg;
  cfg.maxLength = pick(kMax, data[0]);
  cfg.delimiter = pick(kDelimiters, data[1] & 15);
  cfg.altDelimiter = pick(kDelimiters, data[1] >> 4);
  cfg.splitSeed = data[2];
  cfg.stream = std::string_view(reinterpret_cast<const char*>(data) + 3, size - 3);
  return cfg;
}

/// What a line receiver must deliver for the whole stream at once, written as plainly as can be.
/// A line is too long when its delimiter comes after MAX_LENGTH bytes, or when MAX_LENGTH plus
/// the delimiter's length have arrived without one (before that, it may still be a line of
/// exactly MAX_LENGTH whose delimiter is incomplete).
inline Outcome modelLines(const Config& cfg, bool rawMode) {
  Outcome out;
  std::string_view s = cfg.stream;
  std::string delimiter = cfg.delimiter;
  std::size_t pos = 0;
  bool lineMode = true;
  while (pos < s.size()) {
    if (!lineMode) {
      std::size_t end = s.find('~', pos);
      if (end == std::string_view::npos) end = s.size();
      if (end > pos) out.add(Event::Kind::Raw, s.substr(pos, end - pos));
      if (end == s.size()) {
        pos = end;
        break;
      }
      out.add(Event::Kind::RawEnd, "");
      pos = end + 1;
      lineMode = true;
      continue;
    }
    std::size_t idx = s.find(delimiter, pos);
    if (idx == std::string_view::npos && s.size() - pos < cfg.maxLength + delimiter.size()) break;
    if (idx == std::string_view::npos || idx - pos > cfg.maxLength) {
      out.add(Event::Kind::TooLong, "");
      out.close("spindle::FrameTooLongError");
      return out;
    }
    std::string_view line = s.substr(pos, idx - pos);
    out.add(Event::Kind::Frame, line);
    pos = idx + delimiter.size();
    if (rawMode && line == "RAW") {
      lineMode = false;
    } else if (line == "SWAP") {
      delimiter = delimiter == cfg.delimiter ? cfg.altDelimiter : cfg.delimiter;
    }
  }
  out.buffered = s.substr(pos);
  return out;
}

/// The bytes that carry `events`: lines through the receiver's own sendLine (with the delimiter
/// in force at the time), raw bytes as they were, '~' for the end of raw data.
template <class Sender>
std::string encodeLines(const Config& cfg, const std::vector<Event>& events) {
  spindle::testing::StringTransport transport;
  Sender sender(cfg);
  spindle::testing::connect(sender, transport);
  for (const Event& e : events) {
    switch (e.kind) {
      case Event::Kind::Frame:
        sender.sendLine(e.data);
        if (e.data == "SWAP") {
          sender.delimiter = sender.delimiter == cfg.delimiter ? cfg.altDelimiter : cfg.delimiter;
        }
        break;
      case Event::Kind::Raw:
        transport.write(e.data);
        break;
      case Event::Kind::RawEnd:
        transport.write("~");
        break;
      case Event::Kind::TooLong:
        break;
    }
  }
  return transport.value();
}

}  // namespace fuzz
