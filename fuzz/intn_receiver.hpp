// Shared by the Int8/16/32 targets: strings behind a big-endian length prefix. The same strings
// and the same close for every split of the input and with pauses from inside callbacks, as the
// model says; an oversized prefix closes with FrameTooLongError and nothing is delivered after
// it; no string over MAX_LENGTH; the strings re-encoded with sendString are the start of the
// input.
//
// Input: byte 0 picks MAX_LENGTH, byte 1 seeds the split points; the rest is the stream.
#pragma once

#include <climits>

#include "framing.hpp"

namespace fuzz {

template <class Base>
class IntStrings : public Recorder<Base> {
 public:
  explicit IntStrings(const Config& cfg) { this->MAX_LENGTH = this->limit = cfg.maxLength; }

  void stringReceived(std::string_view string) override {
    this->record(Event::Kind::Frame, string);
    this->maybePause();
  }
  void lengthLimitExceeded(std::size_t length) override {
    FUZZ_CHECK(length > this->MAX_LENGTH);
    this->record(Event::Kind::TooLong, std::to_string(length));
    Base::lengthLimitExceeded(length);
  }
};

/// The strings of the whole stream: a prefix announcing more than MAX_LENGTH breaks it for good.
inline Outcome modelIntN(const Config& cfg, std::size_t prefix) {
  Outcome out;
  std::string_view s = cfg.stream;
  std::size_t pos = 0;
  while (s.size() - pos >= prefix) {
    uint64_t length = 0;
    for (std::size_t k = 0; k < prefix; ++k)
      length = length * 256 + static_cast<unsigned char>(s[pos + k]);
    if (length > cfg.maxLength) {
      out.add(Event::Kind::TooLong, std::to_string(length));
      out.close("spindle::FrameTooLongError");
      return out;
    }
    if (s.size() - pos - prefix < length) break;
    out.add(Event::Kind::Frame, s.substr(pos + prefix, length));
    pos += prefix + length;
  }
  out.buffered = s.substr(pos);
  return out;
}

template <class Base>
std::string encodeIntN(const Config& cfg, const std::vector<Event>& events) {
  spindle::testing::StringTransport transport;
  IntStrings<Base> sender(cfg);
  spindle::testing::connect(sender, transport);
  for (const Event& e : events) {
    if (e.kind == Event::Kind::Frame) sender.sendString(e.data);
  }
  return transport.value();
}

template <class Base>
int fuzzIntN(const uint8_t* data, std::size_t size, std::size_t prefix) {
  // Limits around each prefix's range: 0, one byte, two bytes, beyond four bytes.
  static const std::size_t kMax[] = {0,       1,          2,          3,       127,   255,
                                     256,     257,        1000,       65535,   65536, 99999,
                                     1 << 24, 0xffffffff, 1ULL << 32, SIZE_MAX};
  if (size < 2) return 0;
  Config cfg;
  cfg.maxLength = pick(kMax, data[0]);
  cfg.splitSeed = data[1];
  cfg.stream = std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2);
  checkFraming<IntStrings<Base>>(cfg, modelIntN(cfg, prefix), encodeIntN<Base>, true);
  return 0;
}

}  // namespace fuzz
