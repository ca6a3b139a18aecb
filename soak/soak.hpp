// Internal to the soak test: the pieces its client and server share — the deterministic byte
// streams, the frames on the wire, one connection's endpoint, and the figures each process
// keeps. See soak/README.md for what the test does and why.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <spindle/spindle.hpp>

namespace soak {

// --- Streams ------------------------------------------------------------------------------

/// splitmix64: a small, fast generator whose every seed gives an independent-looking sequence,
/// so a stream is fixed by (run seed, connection id, direction) and both ends can compute it.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Which way a stream flows; part of its seed, so the two directions carry different bytes.
enum class Direction : std::uint64_t { ClientToServer = 1, ServerToClient = 2 };

/// The seed of one connection's stream in one direction.
std::uint64_t streamSeed(std::uint64_t runSeed, std::uint64_t id, Direction dir);

/// An endless deterministic byte sequence. The sender generates it; the receiver generates it
/// again and compares, so a lost, duplicated, reordered or altered byte shows at its position.
class Stream {
 public:
  explicit Stream(std::uint64_t seed) : state_(seed) {}
  /// Writes the next `n` bytes of the sequence to `out`.
  void generate(char* out, std::size_t n);
  /// Consumes data.size() bytes of the sequence and returns how many of them differ from `data`.
  std::size_t verify(std::string_view data);
  /// Bytes of the sequence consumed so far.
  std::uint64_t position() const noexcept { return position_; }

 private:
  std::uint64_t state_;
  std::uint64_t word_ = 0;
  unsigned left_ = 0;  // bytes of word_ not handed out yet
  std::uint64_t position_ = 0;
};

// --- Frames --------------------------------------------------------------------------------

/// Every message is one Int32 string whose first byte says what it is. A connection's life:
///   client: Hello(id)  ->  server: Ready  ->  client: Start  ->  Data... both ways at once
///   -> client: End(bytes sent)  ->  server: End(bytes sent), then the server closes.
/// The End frames carry the sender's count, so a receiver knows it lost nothing at the tail.
enum Tag : char { kHello = 'H', kReady = 'R', kStart = 'S', kData = 'D', kEnd = 'E' };

/// A frame of `tag` followed by `value` as 8 little-endian bytes.
std::string numberFrame(Tag tag, std::uint64_t value);
/// The 8-byte number after a frame's tag, or nothing if the frame has the wrong size.
std::optional<std::uint64_t> frameNumber(std::string_view frame);

// --- Figures -------------------------------------------------------------------------------

/// What one process (client or server) saw, over all its connections.
struct Totals {
  std::uint64_t made = 0;           ///< connections that reached connectionMade
  std::uint64_t open = 0;           ///< connections open now
  std::uint64_t peakOpen = 0;       ///< most connections open at once
  std::uint64_t completed = 0;      ///< both End frames exchanged, then closed cleanly
  std::uint64_t bytesSent = 0;      ///< payload bytes of Data frames written
  std::uint64_t bytesReceived = 0;  ///< payload bytes of Data frames received and verified
  std::uint64_t corruptBytes = 0;   ///< received bytes that differ from their stream
  std::uint64_t lostBytes = 0;      ///< bytes an End frame counted that never arrived
  std::uint64_t extraBytes = 0;     ///< bytes received beyond what an End frame counted
  std::map<std::string, std::uint64_t> errors;  ///< unexpected events, by reason

  void error(const std::string& why) { ++errors[why]; }
  std::uint64_t errorCount() const;
};

/// A short, stable name for why a connection ended: the failure's type and its errno.
std::string reasonKey(const spindle::Failure& reason);

/// Peak resident set size of this process, in KiB (getrusage's ru_maxrss).
long peakRssKiB();

/// Raises the soft RLIMIT_NOFILE to at least `needed` (and the hard limit with it when the
/// process may). Returns an empty string, or why the limit stays too low.
std::string raiseFdLimit(std::uint64_t needed);

/// Prints to stderr at most `limit` times per process, so one broken run does not flood the log.
void complain(const std::string& message);

/// A fault a process injects once, to show that the checks catch it (spindle-soak --inject).
enum class Fault { None, FlipBit, DropFrame };

// --- Endpoints -----------------------------------------------------------------------------

/// One end of a soak connection: sends its stream as Data frames while streaming, checks the
/// peer's Data frames against the peer's stream, and exchanges the End frames. The client and
/// server derive from it and handle the control frames (Hello, Ready, Start).
///
/// Sending is a pull producer: the transport asks for one frame each time the socket can take
/// more and the write buffer is below its low mark, so every connection gets its turn and a
/// connection's buffered bytes stay under one frame plus the low mark.
class Endpoint : public spindle::Int32StringReceiver {
 public:
  Endpoint(Totals& totals, std::uint64_t runSeed, std::size_t maxFrame);

  void connectionMade() override;
  void stringReceived(std::string_view frame) override;
  void connectionLost(const spindle::Failure& reason) override;

  std::uint64_t id() const noexcept { return id_; }

  /// The fault this process injects into one Data frame it sends (then resets to None).
  static inline Fault fault = Fault::None;
  /// True once this process has injected its fault.
  static inline bool faultInjected = false;

 protected:
  /// Sets the connection's id, which fixes both of its streams.
  void setId(std::uint64_t id, Direction sending);
  /// Starts sending Data frames.
  void startSending();
  /// Stops sending Data frames and sends End with the count.
  void finishSending();
  /// A frame other than Data or End arrived.
  virtual void controlReceived(Tag tag, std::string_view frame) = 0;
  /// The peer's End frame arrived and checked out.
  virtual void peerFinished() {}
  /// The connection is gone (after the totals were updated).
  virtual void lost(bool completed) { (void)completed; }
  /// Closes the connection because the peer broke the soak protocol.
  void protocolViolation(const std::string& what);
  void sendFrame(std::string_view frame) { sendString(frame); }

  Totals& totals_;

 private:
  // The transport's producer: one Data frame per request (a separate object, because
  // FramedReceiver's own pause/resume methods are about reading).
  struct Pump : spindle::Producer {
    Endpoint* owner = nullptr;
    void resumeProducing() override { owner->sendData(); }
    void stopProducing() override { owner->sending_ = false; }
  };
  void sendData();
  bool injectFault();  // true: drop the frame in frame_
  void checkData(std::string_view payload);
  void checkEnd(std::string_view frame);

  const std::uint64_t runSeed_;
  const std::size_t maxFrame_;
  std::uint64_t id_ = 0;
  std::optional<Stream> out_, in_;
  std::uint64_t sizes_;  // state of the frame-size sequence
  Pump pump_;
  bool sending_ = false;
  bool sentEnd_ = false;
  bool peerEnded_ = false;
  bool broken_ = false;
  std::uint64_t sent_ = 0, received_ = 0;
  // The Data frame being sent; shared by every connection of the process (one reactor thread),
  // so a connection keeps no frame of its own between sends.
  static inline std::string frame_;
};

}  // namespace soak
