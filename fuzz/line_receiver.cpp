// LineReceiver, with raw mode: the same frames and the same close for every split of the input
// and with pauses from inside callbacks, as the model says; nothing delivered after the close;
// no line over MAX_LENGTH; the lines re-encoded with sendLine are the start of the input. A line
// "CLEAR" takes the buffer with clearLineBuffer() and feeds it back with setLineMode(), which
// must change nothing (see lines.hpp for "RAW", "SWAP" and the input's layout).
#include "lines.hpp"

namespace {

using fuzz::Event;

class Lines : public fuzz::Recorder<spindle::LineReceiver> {
 public:
  explicit Lines(const fuzz::Config& cfg) : cfg_(cfg) {
    MAX_LENGTH = limit = cfg.maxLength;
    delimiter = cfg.delimiter;
  }

  void lineReceived(std::string_view line) override {
    record(Event::Kind::Frame, line);
    if (line == "RAW") {
      setRawMode();
    } else if (line == "SWAP") {
      delimiter = delimiter == cfg_.delimiter ? cfg_.altDelimiter : cfg_.delimiter;
    } else if (line == "CLEAR") {
      // Taking every buffered byte and feeding it back must change nothing.
      setLineMode(clearLineBuffer());
    }
    maybePause();
  }

  // Raw data runs up to a '~'; what follows it is handed back as lines, as an HTTP client does
  // after a body.
  void rawDataReceived(std::string_view data) override {
    FUZZ_CHECK(!data.empty());
    std::size_t end = data.find('~');
    record(Event::Kind::Raw, data.substr(0, end));
    if (end != std::string_view::npos) {
      record(Event::Kind::RawEnd, "");
      setLineMode(data.substr(end + 1));
    }
    maybePause();
  }

  void lineLengthExceeded(std::string_view line) override {
    record(Event::Kind::TooLong, "");
    LineReceiver::lineLengthExceeded(line);
  }

 private:
  const fuzz::Config& cfg_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  auto cfg = fuzz::lineConfig(data, size);
  if (!cfg) return 0;
  fuzz::checkFraming<Lines>(*cfg, fuzz::modelLines(*cfg, true), fuzz::encodeLines<Lines>, true);
  return 0;
}
