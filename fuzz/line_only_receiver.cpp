// LineOnlyReceiver: the same frames and the same close for every split of the input and with
// pauses from inside callbacks, as the model says; nothing delivered after the close; no line
// over MAX_LENGTH; the lines re-encoded with sendLine are the start of the input.
#include "lines.hpp"

namespace {

using fuzz::Event;

class Lines : public fuzz::Recorder<spindle::LineOnlyReceiver> {
 public:
  explicit Lines(const fuzz::Config& cfg) : cfg_(cfg) {
    MAX_LENGTH = limit = cfg.maxLength;
    delimiter = cfg.delimiter;
  }

  void lineReceived(std::string_view line) override {
    record(Event::Kind::Frame, line);
    if (line == "SWAP") {
      delimiter = delimiter == cfg_.delimiter ? cfg_.altDelimiter : cfg_.delimiter;
    }
    maybePause();
  }

  void lineLengthExceeded(std::string_view line) override {
    record(Event::Kind::TooLong, "");
    LineOnlyReceiver::lineLengthExceeded(line);
  }

 private:
  const fuzz::Config& cfg_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  auto cfg = fuzz::lineConfig(data, size);
  if (!cfg) return 0;
  fuzz::checkFraming<Lines>(*cfg, fuzz::modelLines(*cfg, false), fuzz::encodeLines<Lines>, true);
  return 0;
}
