// Shared by the framing targets: the differential driver that feeds one input to fresh receivers
// on a StringTransport, split in several ways, and checks that every run agrees with the others
// and with a whole-input reference model of the framing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spindle/basic.hpp>
#include <spindle/failure.hpp>
#include <spindle/testing.hpp>

/// Aborts with the failed condition: libFuzzer reports the abort and saves the input.
#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

namespace fuzz {

/// A small deterministic generator (splitmix64), so split points depend only on the input.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  bool oneIn(uint64_t n) { return next() % n == 0; }

 private:
  uint64_t state_;
};

/// What a receiver reported, in order. Adjacent Raw events are merged: raw mode hands over bytes
/// as the reads split them, and only their concatenation is the same for every split.
struct Event {
  enum class Kind { Frame, Raw, RawEnd, TooLong };
  Kind kind;
  std::string data;  // the frame, the raw bytes, or (TooLong of a length prefix) the length
  bool operator==(const Event&) const = default;
};

struct Outcome {
  std::vector<Event> events;
  bool closed = false;        // the receiver called loseConnection
  std::string reasonType;     // the close reason's type, when closed
  std::string reasonMessage;  // its message (the models leave it empty)
  std::string buffered;       // the bytes kept for a frame still incomplete, when not closed

  void add(Event::Kind kind, std::string_view data) {
    if (kind == Event::Kind::Raw && data.empty()) return;
    if (kind == Event::Kind::Raw && !events.empty() && events.back().kind == Event::Kind::Raw) {
      events.back().data.append(data);
    } else {
      events.push_back({kind, std::string(data)});
    }
  }
  void close(const char* type) {
    closed = true;
    reasonType = type;
  }
};

/// The settings a target decodes from the first bytes of its input; `stream` is the rest.
struct Config {
  std::size_t maxLength = 0;
  std::string delimiter;     // line targets only
  std::string altDelimiter;  // what a "SWAP" line switches to (line targets only)
  uint64_t splitSeed = 0;
  std::string_view stream;
};

/// Adds recording and checking to a receiver: every delivery is recorded, and none may happen
/// while the transport is closing, while the receiver is paused, or exceed MAX_LENGTH. With a
/// generator set, it pauses itself after some deliveries (the driver resumes it later).
template <class Base>
class Recorder : public Base {
 public:
  Outcome out;
  Rng* pauses = nullptr;
  std::size_t limit = 0;  // MAX_LENGTH, as configured

  void record(Event::Kind kind, std::string_view data) {
    FUZZ_CHECK(this->transport != nullptr && !this->transport->disconnecting());
    FUZZ_CHECK(!this->paused());
    if (kind == Event::Kind::Frame) FUZZ_CHECK(data.size() <= limit);
    out.add(kind, data);
  }
  /// Called at the end of a callback: sometimes pause, from inside the callback.
  void maybePause() {
    if (pauses && pauses->oneIn(3)) this->pauseProducing();
  }
  /// Every byte kept but not delivered.
  std::string buffered() { return this->takeBuffered(); }
};

/// The name of a close reason's type, for comparing outcomes.
inline std::string typeOf(const spindle::Failure& f) {
  return f.typeName();
}

/// Feeds `chunks` to a fresh receiver R, as a reactor would (but also after the receiver closed
/// the connection: it must ignore them), then resumes it until it delivered everything.
template <class R>
Outcome feed(const Config& cfg, const std::vector<std::string_view>& chunks, Rng* pauses) {
  spindle::testing::StringTransport transport;
  R r(cfg);
  r.pauses = pauses;
  spindle::testing::connect(r, transport);
  for (std::string_view chunk : chunks) {
    r.dataReceived(chunk);
    if (pauses && r.paused() && pauses->oneIn(2)) r.resumeProducing();
  }
  r.pauses = nullptr;
  if (r.paused()) r.resumeProducing();
  FUZZ_CHECK(!r.paused());
  Outcome out = std::move(r.out);
  out.closed = transport.disconnecting();
  FUZZ_CHECK(!transport.aborted());
  if (out.closed) {
    const auto& reason = transport.closeReason();
    FUZZ_CHECK(reason.has_value());
    FUZZ_CHECK(reason->check<spindle::ProtocolError>());
    out.reasonType = typeOf(*reason);
    out.reasonMessage = reason->getErrorMessage();
  } else {
    out.buffered = r.buffered();
  }
  return out;
}

/// Whole, byte by byte, and in pieces of generator-chosen sizes (empty reads included).
inline std::vector<std::vector<std::string_view>> chunkings(const Config& cfg) {
  std::string_view s = cfg.stream;
  std::vector<std::vector<std::string_view>> out(3);
  out[0].push_back(s);
  for (std::size_t i = 0; i < s.size(); ++i)
    out[1].push_back(s.substr(i, 1));
  Rng rng(cfg.splitSeed);
  for (std::size_t i = 0; i < s.size();) {
    uint64_t r = rng.next();
    std::size_t n = r % 4 == 0 ? 0 : 1 + (r >> 8) % (r % 3 == 0 ? 64 : 4);
    out[2].push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

/// Runs R on every chunking, with and without self-pausing, and checks that all runs agree with
/// `expected` (the model's outcome; its reason message is not compared); that the delivered
/// frames, re-encoded by `encode`, are the start of the input; and that the bytes kept are its
/// end. `exact` says that nothing is consumed but whole frames (all framings but netstrings,
/// which consume a length before its payload arrives).
template <class R, class Encode>
void checkFraming(const Config& cfg, const Outcome& expected, Encode encode, bool exact) {
  auto splits = chunkings(cfg);
  std::vector<Outcome> runs;
  for (const auto& chunks : splits)
    runs.push_back(feed<R>(cfg, chunks, nullptr));
  Rng pauses(cfg.splitSeed ^ 0x5bd1e995);
  runs.push_back(feed<R>(cfg, splits[2], &pauses));

  for (const Outcome& run : runs) {
    FUZZ_CHECK(run.events == expected.events);
    FUZZ_CHECK(run.closed == expected.closed);
    FUZZ_CHECK(run.reasonType == expected.reasonType);
    FUZZ_CHECK(run.reasonMessage == runs[0].reasonMessage);
    FUZZ_CHECK(run.buffered == expected.buffered);
  }
  std::string encoded = encode(cfg, expected.events);
  FUZZ_CHECK(cfg.stream.starts_with(encoded));
  if (!expected.closed) {
    FUZZ_CHECK(encoded.size() + expected.buffered.size() <= cfg.stream.size());
    FUZZ_CHECK(cfg.stream.ends_with(expected.buffered));
    if (exact) FUZZ_CHECK(encoded.size() + expected.buffered.size() == cfg.stream.size());
  }
}

/// A table entry chosen by some bits of a header byte.
template <class T, std::size_t N>
const T& pick(const T (&table)[N], unsigned bits) {
  return table[bits % N];
}

}  // namespace fuzz
