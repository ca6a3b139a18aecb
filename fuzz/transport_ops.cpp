// A framing receiver with an idle timeout (TimeoutMixin), on a StringTransport and a fake Clock,
// driven by a fuzzed sequence of operations: reads, writes, writeSequence, sends, pauses and
// resumes, stopProducing, loseConnection, abortConnection, loseWriteConnection, producer
// registration, water marks, clock advances, timeout changes, and reactor steps that deliver
// queued reads and, once the transport is closing, connectionLost. The harness plays the reactor:
// it queues reads while the transport is paused and delivers none once it is closing.
//
// Checked after every operation:
//  - the transport's value() is every byte written, in order (the harness's writes and the
//    receiver's echoes, encoded here independently of the library's senders);
//  - disconnecting(), aborted() and closeReason() follow the close calls made (the first
//    loseConnection's reason wins; none after an abort);
//  - the idle timer fires exactly when a model of it says (every dataReceived resets it), never
//    after connectionLost, and is cancelled by connectionLost and by the protocol's destructor;
//  - registerProducer refuses a second producer; setWriteBufferWaterMarks refuses low > high;
//  - no frame is delivered while paused, while closing, or after connectionLost, which happens
//    at most once.
// At the end, after resuming and delivering everything: the frames are the model's frames of the
// bytes delivered, all of them unless the connection is closing, and a malformed stream closed it.
//
// Input: byte 0 picks the framing and MAX_LENGTH, byte 1 the line delimiter; then operations,
// each an opcode byte followed by its arguments (missing bytes read as 0).
#include <spindle/policies.hpp>

#include "intn_receiver.hpp"
#include "lines.hpp"
#include "netstrings.hpp"

namespace {

using fuzz::Event;
using spindle::Failure;

/// A StringTransport that also remembers what the close calls should have left behind.
class WatchedTransport : public spindle::testing::StringTransport {
 public:
  using StringTransport::loseConnection;
  void loseConnection(const Failure& reason) override {
    if (!closing_) reason_ = reason.typeName() + ": " + reason.getErrorMessage();
    closing_ = true;
    StringTransport::loseConnection(reason);
  }
  void abortConnection() override {
    closing_ = aborted_ = true;
    StringTransport::abortConnection();
  }
  void check() const {
    FUZZ_CHECK(disconnecting() == closing_);
    FUZZ_CHECK(aborted() == aborted_);
    const auto& got = closeReason();
    FUZZ_CHECK(got.has_value() == reason_.has_value());
    if (got) FUZZ_CHECK(got->typeName() + ": " + got->getErrorMessage() == *reason_);
  }

 private:
  bool closing_ = false, aborted_ = false;
  std::optional<std::string> reason_;
};

/// What the harness expects of the idle timer.
struct TimerModel {
  std::optional<double> timeout;
  bool active = false;
  double deadline = 0;
};

/// The protocol under test: records and echoes every frame; "QUIT" closes the connection,
/// "BYE" aborts it, "HUSH" pauses delivery from inside the callback. It keeps its own model of
/// the idle timer, updated where the contract says the timer changes.
template <class Base>
class Subject : public spindle::TimeoutMixin<Base> {
 public:
  Subject(spindle::testing::Clock& clock, std::string& written)
      : spindle::TimeoutMixin<Base>(clock), clock_(clock), written_(written) {}

  void dataReceived(std::string_view data) override {
    FUZZ_CHECK(!lost);
    delivered.append(data);
    if (timer.active) timer.deadline = clock_.seconds() + *timer.timeout;
    spindle::TimeoutMixin<Base>::dataReceived(data);
  }
  void timeoutConnection() override {
    FUZZ_CHECK(!lost);
    FUZZ_CHECK(timer.active && timer.deadline <= clock_.seconds());
    timer.active = false;
    spindle::TimeoutMixin<Base>::timeoutConnection();
  }
  void connectionLost(const Failure& reason) override {
    FUZZ_CHECK(!lost);
    lost = true;
    timer.active = false;
    spindle::TimeoutMixin<Base>::connectionLost(reason);
  }
  void setTimer(std::optional<double> seconds) {
    timer.timeout = seconds;
    timer.active = seconds.has_value();
    if (seconds) timer.deadline = clock_.seconds() + *seconds;
    this->setTimeout(seconds);
  }
  /// Sends `f` with the framing's sender; `written` gets its encoding.
  void sendFrame(std::string_view f) {
    written_ += encoding(f);
    send(f);
  }

  std::string delivered;            // every byte given to dataReceived
  std::vector<std::string> frames;  // every frame delivered
  TimerModel timer;
  bool lost = false;

 protected:
  void frame(std::string_view f) {
    FUZZ_CHECK(!lost && !this->paused() && !this->transport->disconnecting());
    FUZZ_CHECK(f.size() <= this->MAX_LENGTH);
    frames.emplace_back(f);
    sendFrame(f);
    if (f == "QUIT") {
      this->transport->loseConnection();
    } else if (f == "BYE") {
      this->transport->abortConnection();
    } else if (f == "HUSH") {
      this->pauseProducing();
    }
  }
  virtual std::string encoding(std::string_view f) const = 0;
  virtual void send(std::string_view f) = 0;

 private:
  spindle::testing::Clock& clock_;
  std::string& written_;
};

class LineSubject : public Subject<spindle::LineOnlyReceiver> {
 public:
  using Subject::Subject;
  void lineReceived(std::string_view line) override { frame(line); }

 protected:
  std::string encoding(std::string_view f) const override { return std::string(f) + delimiter; }
  void send(std::string_view f) override { sendLine(f); }
};

class NetstringSubject : public Subject<spindle::NetstringReceiver> {
 public:
  using Subject::Subject;
  void stringReceived(std::string_view s) override { frame(s); }

 protected:
  std::string encoding(std::string_view f) const override {
    return std::to_string(f.size()) + ":" + std::string(f) + ",";
  }
  void send(std::string_view f) override { sendString(f); }
};

class Int16Subject : public Subject<spindle::Int16StringReceiver> {
 public:
  using Subject::Subject;
  void stringReceived(std::string_view s) override { frame(s); }

 protected:
  std::string encoding(std::string_view f) const override {
    return std::string{char(f.size() >> 8), char(f.size() & 0xff)}.append(f);
  }
  void send(std::string_view f) override { sendString(f); }
};

class NullProducer : public spindle::Producer {
 public:
  void resumeProducing() override {}
  void stopProducing() override {}
};

/// Reads the operations; bytes past the end read as 0.
class Ops {
 public:
  Ops(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool more() const { return pos_ < size_; }
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::string_view bytes(std::size_t n) {
    n = std::min(n, size_ - pos_);
    std::string_view out(reinterpret_cast<const char*>(data_) + pos_, n);
    pos_ += n;
    return out;
  }

 private:
  const uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// The opcodes, in the order of their byte values (the byte modulo kOpCount).
enum Op : uint8_t {
  kRead,           // n = byte % 64, then n bytes: a read from the peer
  kWrite,          // n = byte % 32, then n bytes: transport.write
  kWriteSequence,  // k = byte % 4 pieces, each n = byte % 16 then n bytes
  kSend,           // n = byte % 32, then n bytes: the receiver's sendLine / sendString
  kPause,          // the receiver's pauseProducing
  kResume,         // the receiver's resumeProducing
  kStop,           // the receiver's stopProducing
  kLose,           // byte & 1: loseConnection with a ProtocolError, else plain
  kAbort,          // abortConnection
  kRegister,       // byte & 1 = streaming: registerProducer
  kUnregister,     // unregisterProducer
  kAdvance,        // clock.advance((byte % 16) * 0.25)
  kSetTimeout,     // byte % 17: 16 turns the timeout off, else (byte % 17) * 0.25 seconds
  kStep,           // a reactor step: queued reads, then connectionLost if closing
  kWaterMarks,     // high = byte, low = byte: setWriteBufferWaterMarks
  kClear,          // transport.clear()
  kLoseWrite,      // loseWriteConnection (the half-close)
  kOpCount
};

template <class S>
class Harness {
 public:
  Harness(const fuzz::Config& cfg) : cfg_(cfg), subject_(std::make_unique<S>(clock_, written_)) {
    subject_->MAX_LENGTH = cfg.maxLength;
    if constexpr (std::is_same_v<S, LineSubject>) subject_->delimiter = cfg.delimiter;
    spindle::testing::connect(*subject_, transport_);
  }

  void apply(Op op, Ops& in);

  void check() const {
    FUZZ_CHECK(transport_.value() == written_);
    transport_.check();
  }

  /// Resumes and steps until every read was delivered, then checks the frames against the model
  /// and destroys the protocol: its timer must go with it.
  template <class Model>
  void finish(Model model) {
    for (int i = 0; i < 100000 && !subject_->lost; ++i) {
      if (subject_->paused()) subject_->resumeProducing();
      step();
      check();
      if (!subject_->paused() && (queued_.empty() || !readable())) break;
    }
    fuzz::Config cfg = cfg_;
    cfg.stream = subject_->delivered;
    fuzz::Outcome expected = model(cfg);
    std::vector<std::string> frames;
    for (const Event& e : expected.events) {
      if (e.kind == Event::Kind::Frame) frames.push_back(e.data);
    }
    const auto& got = subject_->frames;
    FUZZ_CHECK(got.size() <= frames.size());
    FUZZ_CHECK(std::equal(got.begin(), got.end(), frames.begin()));
    if (!transport_.disconnecting()) {
      FUZZ_CHECK(!subject_->paused() && queued_.empty());
      FUZZ_CHECK(got.size() == frames.size());
      FUZZ_CHECK(!expected.closed);
    }
    subject_.reset();
    FUZZ_CHECK(clock_.getDelayedCalls().empty());
  }

 private:
  bool readable() const {
    return transport_.producerState == "producing" && !transport_.disconnecting();
  }
  void step();

  fuzz::Config cfg_;
  spindle::testing::Clock clock_;
  WatchedTransport transport_;
  std::string written_;  // what transport_.value() must hold
  std::string queued_;   // reads held back while the transport is paused
  NullProducer producer_;
  std::unique_ptr<S> subject_;
};

// As the reactor: deliver what was read if the transport reads; then, if it is closing, stop
// its producer and tell the protocol, once.
template <class S>
void Harness<S>::step() {
  if (readable() && !queued_.empty()) {
    std::string chunk;
    chunk.swap(queued_);
    subject_->dataReceived(chunk);
  }
  if (!transport_.disconnecting() || subject_->lost) return;
  Failure reason = transport_.aborted()       ? Failure(spindle::ConnectionAborted())
                   : transport_.closeReason() ? *transport_.closeReason()
                                              : Failure(spindle::ConnectionDone());
  if (spindle::Producer* p = transport_.producer()) {
    transport_.unregisterProducer();
    p->stopProducing();
  }
  subject_->connected = false;
  subject_->connectionLost(reason);
  FUZZ_CHECK(clock_.getDelayedCalls().empty());  // the idle timer was cancelled
}

template <class S>
void Harness<S>::apply(Op op, Ops& in) {
  S& s = *subject_;
  if (s.lost && op != kAdvance) return;  // nothing uses a connection after connectionLost
  switch (op) {
    case kRead: {
      std::string_view chunk = in.bytes(in.byte() % 64);
      if (transport_.disconnecting()) break;  // reading stops at the close
      queued_.append(chunk);
      if (readable()) step();
      break;
    }
    case kWrite: {
      std::string_view data = in.bytes(in.byte() % 32);
      written_.append(data);
      transport_.write(data);
      break;
    }
    case kWriteSequence: {
      std::vector<std::string_view> pieces(in.byte() % 4);
      for (auto& p : pieces) {
        p = in.bytes(in.byte() % 16);
        written_.append(p);
      }
      transport_.writeSequence(pieces);
      break;
    }
    case kSend:
      s.sendFrame(in.bytes(in.byte() % 32));
      break;
    case kPause:
      s.pauseProducing();
      FUZZ_CHECK(s.paused() && transport_.producerState == "paused");
      break;
    case kResume:
      s.resumeProducing();  // a "HUSH" among the frames it delivers pauses it again
      FUZZ_CHECK(transport_.producerState == (s.paused() ? "paused" : "producing"));
      break;
    case kStop:
      s.stopProducing();
      FUZZ_CHECK(s.paused() && transport_.producerState == "stopped");
      break;
    case kLose:
      if (in.byte() & 1) {
        transport_.loseConnection(Failure(spindle::ProtocolError("closed by the fuzzer")));
      } else {
        transport_.loseConnection();
      }
      break;
    case kAbort:
      transport_.abortConnection();
      break;
    case kRegister: {
      bool streaming = in.byte() & 1;
      bool had = transport_.producer() != nullptr, wasStreaming = transport_.streaming();
      bool threw = false;
      try {
        transport_.registerProducer(producer_, streaming);
      } catch (const spindle::Error&) {
        threw = true;
      }
      FUZZ_CHECK(threw == had);
      FUZZ_CHECK(transport_.producer() == &producer_);
      FUZZ_CHECK(transport_.streaming() == (threw ? wasStreaming : streaming));
      break;
    }
    case kUnregister:
      transport_.unregisterProducer();
      FUZZ_CHECK(transport_.producer() == nullptr);
      break;
    case kAdvance:
      clock_.advance((in.byte() % 16) * 0.25);
      FUZZ_CHECK(!(s.timer.active && s.timer.deadline <= clock_.seconds()));  // it must have run
      break;
    case kSetTimeout: {
      unsigned arg = in.byte() % 17;
      s.setTimer(arg == 16 ? std::nullopt : std::optional<double>(arg * 0.25));
      break;
    }
    case kStep:
      step();
      break;
    case kWaterMarks: {
      std::size_t high = in.byte(), low = in.byte();
      bool threw = false;
      try {
        transport_.setWriteBufferWaterMarks(high, low);
      } catch (const spindle::Error&) {
        threw = true;
      }
      FUZZ_CHECK(threw == (low > high));
      break;
    }
    case kClear:
      transport_.clear();
      written_.clear();
      break;
    case kLoseWrite:
      transport_.loseWriteConnection();  // recorded; later writes are still recorded too
      FUZZ_CHECK(transport_.writeDisconnected());
      break;
    case kOpCount:
      break;
  }
}

template <class S, class Model>
void run(const fuzz::Config& cfg, Ops& in, Model model) {
  Harness<S> h(cfg);
  while (in.more()) {
    h.apply(Op(in.byte() % kOpCount), in);
    h.check();
  }
  h.finish(model);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static const std::size_t kMax[] = {4, 16, 100, 1000};
  static const std::string kDelimiters[] = {"\r\n", "\n", "xyx", "||"};
  if (size < 2) return 0;
  fuzz::Config cfg;
  cfg.maxLength = fuzz::pick(kMax, data[0] >> 2);
  cfg.delimiter = cfg.altDelimiter = fuzz::pick(kDelimiters, data[1]);  // no SWAP here
  Ops in(data + 2, size - 2);
  switch (data[0] % 4) {
    case 0:
    case 3:
      run<LineSubject>(cfg, in, [](const fuzz::Config& c) { return fuzz::modelLines(c, false); });
      break;
    case 1:
      run<NetstringSubject>(cfg, in, fuzz::modelNetstrings);
      break;
    case 2:
      run<Int16Subject>(cfg, in, [](const fuzz::Config& c) { return fuzz::modelIntN(c, 2); });
      break;
  }
  return 0;
}
