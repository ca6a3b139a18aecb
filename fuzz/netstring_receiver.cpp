// NetstringReceiver: the same strings and the same close for every split of the input and with
// pauses from inside callbacks, as the model says; a malformed netstring closes with
// NetstringParseError and nothing is delivered after it; no string over MAX_LENGTH; the strings
// re-encoded with sendString are the start of the input.
//
// Input: byte 0 picks MAX_LENGTH, byte 1 seeds the split points; the rest is the stream.
#include "netstrings.hpp"

namespace {

using fuzz::Event;

class Netstrings : public fuzz::Recorder<spindle::NetstringReceiver> {
 public:
  explicit Netstrings(const fuzz::Config& cfg) { MAX_LENGTH = limit = cfg.maxLength; }

  void stringReceived(std::string_view string) override {
    FUZZ_CHECK(!brokenPeer());
    record(Event::Kind::Frame, string);
    maybePause();
  }
};

std::string encode(const fuzz::Config& cfg, const std::vector<Event>& events) {
  spindle::testing::StringTransport transport;
  Netstrings sender(cfg);
  spindle::testing::connect(sender, transport);
  for (const Event& e : events)
    sender.sendString(e.data);
  return transport.value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static const std::size_t kMax[] = {0,  1,   2,   3,   5,    9,     10,      11,
                                     99, 100, 101, 999, 1000, 99999, 1 << 20, SIZE_MAX};
  if (size < 2) return 0;
  fuzz::Config cfg;
  cfg.maxLength = fuzz::pick(kMax, data[0]);
  cfg.splitSeed = data[1];
  cfg.stream = std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2);
  fuzz::checkFraming<Netstrings>(cfg, fuzz::modelNetstrings(cfg), encode, false);
  return 0;
}
