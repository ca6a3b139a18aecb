// The soak test's shared pieces: streams, frames, figures and the connection endpoint.
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "soak.hpp"

namespace soak {

std::uint64_t streamSeed(std::uint64_t runSeed, std::uint64_t id, Direction dir) {
  std::uint64_t s = runSeed * 0xD6E8FEB86659FD93ull ^ (id << 2 | static_cast<std::uint64_t>(dir));
  return splitmix64(s);
}

namespace {

// Little-endian on every host: the sender and the receiver split the stream differently, so a
// byte's value must depend only on its position.
void storeWord(char* out, std::uint64_t w, unsigned n) {
  for (unsigned k = 0; k < n; ++k)
    out[k] = static_cast<char>((w >> (8 * k)) & 0xff);
}

}  // namespace

void Stream::generate(char* out, std::size_t n) {
  position_ += n;
  while (n > 0 && left_ > 0) {
    *out++ = static_cast<char>(word_ & 0xff);
    word_ >>= 8;
    --left_;
    --n;
  }
  for (; n >= 8; n -= 8, out += 8)
    storeWord(out, splitmix64(state_), 8);
  if (n > 0) {
    word_ = splitmix64(state_);
    storeWord(out, word_, static_cast<unsigned>(n));
    word_ >>= 8 * n;
    left_ = static_cast<unsigned>(8 - n);
  }
}

std::size_t Stream::verify(std::string_view data) {
  // One process runs one reactor on one thread: a static scratch buffer is safe.
  static char expected[16384];
  std::size_t bad = 0;
  while (!data.empty()) {
    const std::size_t n = std::min(data.size(), sizeof expected);
    generate(expected, n);
    if (std::memcmp(expected, data.data(), n) != 0) {
      for (std::size_t k = 0; k < n; ++k)
        bad += expected[k] != data[k];
    }
    data.remove_prefix(n);
  }
  return bad;
}

std::string numberFrame(Tag tag, std::uint64_t value) {
  std::string frame(9, '\0');
  frame[0] = tag;
  storeWord(frame.data() + 1, value, 8);
  return frame;
}

std::optional<std::uint64_t> frameNumber(std::string_view frame) {
  if (frame.size() != 9) return std::nullopt;
  std::uint64_t v = 0;
  for (unsigned k = 0; k < 8; ++k)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(frame[1 + k])) << (8 * k);
  return v;
}

std::uint64_t Totals::errorCount() const {
  std::uint64_t n = 0;
  for (const auto& [_, count] : errors)
    n += count;
  return n;
}

std::string reasonKey(const spindle::Failure& reason) {
  // spindle's messages name no address or port, so equal causes group under one key.
  return reason.typeName() + ": " + reason.getErrorMessage();
}

long peakRssKiB() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

std::string raiseFdLimit(std::uint64_t needed) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return "getrlimit(RLIMIT_NOFILE) failed";
  if (rl.rlim_cur >= needed) return {};
  rlimit want = rl;
  want.rlim_cur = needed;
  // Only a privileged process may raise the hard limit; try, and say so if it cannot.
  if (want.rlim_max < needed) want.rlim_max = needed;
  if (::setrlimit(RLIMIT_NOFILE, &want) == 0) return {};
  return "this run needs " + std::to_string(needed) + " descriptors per process but the hard " +
         "limit (ulimit -Hn) is " + std::to_string(rl.rlim_max) +
         ": raise it, or ask for fewer connections";
}

void complain(const std::string& message) {
  static int told = 0;
  if (++told <= 20) std::fprintf(stderr, "soak: %s\n", message.c_str());
  if (told == 20) std::fprintf(stderr, "soak: (further complaints not shown)\n");
}

// --- Endpoint ------------------------------------------------------------------------------

Endpoint::Endpoint(Totals& totals, std::uint64_t runSeed, std::size_t maxFrame)
    : totals_(totals), runSeed_(runSeed), maxFrame_(maxFrame), sizes_(runSeed) {
  MAX_LENGTH = maxFrame + 16;  // the tag, and room for the control frames
  pump_.owner = this;
}

void Endpoint::connectionMade() {
  ++totals_.made;
  totals_.peakOpen = std::max(totals_.peakOpen, ++totals_.open);
  // The pull producer is asked for a frame only once the buffer has drained: at most one frame
  // per connection waits in user space.
  transport->setWriteBufferWaterMarks(maxFrame_, 0);
}

void Endpoint::setId(std::uint64_t id, Direction sending) {
  const Direction receiving =
      sending == Direction::ClientToServer ? Direction::ServerToClient : Direction::ClientToServer;
  id_ = id;
  out_.emplace(streamSeed(runSeed_, id, sending));
  in_.emplace(streamSeed(runSeed_, id, receiving));
  sizes_ = streamSeed(runSeed_, id, sending) ^ 0x5A5A5A5A5A5A5A5Aull;
}

void Endpoint::startSending() {
  if (sending_ || sentEnd_ || !out_) return;
  sending_ = true;
  transport->registerProducer(pump_, false);
}

void Endpoint::sendData() {
  if (!sending_ || transport->disconnecting()) return;
  // Sizes vary from 1 byte to maxFrame, so frames straddle reads in every possible way.
  const std::size_t n = 1 + splitmix64(sizes_) % maxFrame_;
  frame_.resize(1 + n);
  frame_[0] = kData;
  out_->generate(frame_.data() + 1, n);
  sent_ += n;
  totals_.bytesSent += n;
  if (injectFault()) return;
  sendFrame(frame_);
}

bool Endpoint::injectFault() {
  // Not the first frames, so the fault lands mid-stream, but early: a slow run (a sanitizer
  // build on a busy machine) still gets there.
  static std::uint64_t frames = 0;
  if (fault == Fault::None || ++frames < 50) return false;
  const Fault f = fault;
  fault = Fault::None;
  faultInjected = true;
  complain("injecting a fault on connection " + std::to_string(id_) + " as asked");
  if (f == Fault::FlipBit) {
    frame_[frame_.size() / 2] ^= 0x10;
    return false;
  }
  return true;  // DropFrame: counted as sent, never written
}

void Endpoint::finishSending() {
  if (sentEnd_) return;
  sending_ = false;
  transport->unregisterProducer();
  sendFrame(numberFrame(kEnd, sent_));
  sentEnd_ = true;
}

void Endpoint::stringReceived(std::string_view frame) {
  if (broken_) return;
  if (frame.empty()) return protocolViolation("an empty frame");
  switch (frame[0]) {
    case kData:
      return checkData(frame.substr(1));
    case kEnd:
      return checkEnd(frame);
    default:
      return controlReceived(static_cast<Tag>(frame[0]), frame);
  }
}

void Endpoint::checkData(std::string_view payload) {
  if (!in_) return protocolViolation("Data before Hello");
  if (peerEnded_) return protocolViolation("Data after End");
  const std::uint64_t at = received_;
  const std::size_t bad = in_->verify(payload);
  received_ += payload.size();
  totals_.bytesReceived += payload.size();
  if (bad > 0) {
    totals_.corruptBytes += bad;
    complain("connection " + std::to_string(id_) + ": " + std::to_string(bad) + " of " +
             std::to_string(payload.size()) + " bytes differ at stream offset " +
             std::to_string(at));
    protocolViolation("corrupted data");
  }
}

void Endpoint::checkEnd(std::string_view frame) {
  auto count = frameNumber(frame);
  if (!count) return protocolViolation("a malformed End frame");
  if (peerEnded_) return protocolViolation("a second End frame");
  peerEnded_ = true;
  if (*count != received_) {
    if (*count > received_) {
      totals_.lostBytes += *count - received_;
    } else {
      totals_.extraBytes += received_ - *count;
    }
    complain("connection " + std::to_string(id_) + ": the peer sent " + std::to_string(*count) +
             " bytes and " + std::to_string(received_) + " arrived");
    return protocolViolation("byte count mismatch at End");
  }
  peerFinished();
}

void Endpoint::protocolViolation(const std::string& what) {
  if (broken_) return;
  broken_ = true;
  complain("connection " + std::to_string(id_) + ": " + what);
  transport->loseConnection(spindle::Failure(spindle::ProtocolError("soak: " + what)));
}

void Endpoint::connectionLost(const spindle::Failure& reason) {
  --totals_.open;
  sending_ = false;
  const bool completed =
      sentEnd_ && peerEnded_ && !broken_ && reason.check<spindle::ConnectionDone>();
  if (completed) {
    ++totals_.completed;
  } else if (!broken_ && reason.check<spindle::ConnectionDone>()) {
    totals_.error("closed cleanly before both End frames were exchanged");
  } else {
    totals_.error(reasonKey(reason));
  }
  lost(completed);
}

}  // namespace soak
