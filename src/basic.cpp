#include "spindle/basic.hpp"

#include <fmt/format.h>

#include <climits>
#include <stdexcept>

namespace spindle {

namespace {

// What an emptied receive buffer may keep allocated between reads.
constexpr std::size_t kKeptCapacity = 4096;

Failure tooLong(std::string_view what, std::size_t maxLength) {
  return Failure(
      FrameTooLongError(fmt::format("{} longer than MAX_LENGTH ({} bytes)", what, maxLength)));
}

}  // namespace

// --- FramedReceiver ----------------------------------------------------------------------

void FramedReceiver::dataReceived(std::string_view data) {
  if (busy_) {
    // Fed from inside a callback: handled after the bytes already received, as Twisted does.
    pending_.append(data);
    return;
  }
  busy_ = true;
  struct Done {
    FramedReceiver& r;
    ~Done() {
      r.busy_ = false;
      r.view_ = {};
      r.pos_ = 0;
    }
  } done{*this};
  if (buffer_.empty()) {
    run(data);  // the common case: frames are delivered straight from the read, uncopied
    buffer_.append(remaining());
  } else {
    buffer_.append(data);
    run(buffer_);
    buffer_.erase(0, pos_);
  }
  while (!pending_.empty() && !deliveryStopped()) {
    buffer_.append(pending_);
    pending_.clear();
    run(buffer_);
    buffer_.erase(0, pos_);
  }
  buffer_.append(pending_);
  pending_.clear();
  // A burst of partial frames leaves capacity behind that an idle connection should not keep.
  if (buffer_.empty() && buffer_.capacity() > kKeptCapacity) std::string().swap(buffer_);
  if (pending_.capacity() > kKeptCapacity) std::string().swap(pending_);
}

void FramedReceiver::run(std::string_view view) {
  view_ = view;
  pos_ = 0;
  if (!deliveryStopped()) parseFrames();
}

bool FramedReceiver::deliveryStopped() const noexcept {
  return paused_ || (transport && transport->disconnecting());
}

std::string FramedReceiver::takeBuffered() {
  std::string out;
  if (busy_) {
    // view_ may point into buffer_, so buffer_ is left alone; consuming the view empties it.
    out.assign(remaining());
    pos_ = view_.size();
  } else {
    out.swap(buffer_);
  }
  out.append(pending_);
  pending_.clear();
  return out;
}

void FramedReceiver::discardBuffered() noexcept {
  pos_ = view_.size();
  pending_.clear();
  if (!busy_) buffer_.clear();
}

void FramedReceiver::pauseProducing() {
  paused_ = true;
  if (transport) transport->pauseProducing();
}

void FramedReceiver::resumeProducing() {
  paused_ = false;
  if (transport) transport->resumeProducing();
  // Inside a callback the running pass goes on by itself; otherwise deliver what waited.
  // Not the virtual dataReceived: a wrapper such as TimeoutMixin would take this for traffic.
  if (!busy_) FramedReceiver::dataReceived({});
}

void FramedReceiver::stopProducing() {
  paused_ = true;
  if (transport) transport->stopProducing();
}

// --- LineReceiver ------------------------------------------------------------------------

FramedReceiver::LineResult FramedReceiver::takeLine(const std::string& delimiter,
                                                    std::size_t maxLength, LineScan& scan,
                                                    std::string_view& line) {
  if (delimiter.empty()) throw std::logic_error("the line delimiter is empty");
  std::string_view rest = remaining();
  std::size_t from =
      (scan.clean > 0 && scan.with == delimiter) ? std::min(scan.clean, rest.size()) : 0;
  std::size_t idx = rest.find(delimiter, from);
  if (idx == std::string_view::npos) {
    // A line of exactly maxLength may still be waiting for the rest of its delimiter.
    if (rest.size() < maxLength + delimiter.size()) {
      scan.clean = rest.size() >= delimiter.size() ? rest.size() - delimiter.size() + 1 : 0;
      scan.with = delimiter;
      return LineResult::Partial;
    }
    idx = rest.size();  // too long: hand over everything
  }
  scan.clean = 0;
  if (idx > maxLength) {
    advance(rest.size());
    line = rest;
    return LineResult::TooLong;
  }
  advance(idx + delimiter.size());
  line = rest.substr(0, idx);
  return LineResult::Line;
}

void LineReceiver::parseFrames() {
  while (!deliveryStopped() && !remaining().empty()) {
    if (!lineMode_) {
      std::string_view raw = remaining();
      advance(raw.size());
      rawDataReceived(raw);
      continue;
    }
    if (!deliverLine(
            delimiter, MAX_LENGTH, scan_, [this](std::string_view l) { lineReceived(l); },
            [this](std::string_view l) { lineLengthExceeded(l); })) {
      return;
    }
  }
}

void LineReceiver::rawDataReceived(std::string_view) {
  throw Error("LineReceiver in raw mode: override rawDataReceived");
}

void LineReceiver::lineLengthExceeded(std::string_view) {
  if (transport) transport->loseConnection(tooLong("line", MAX_LENGTH));
}

void LineReceiver::sendLine(std::string_view line) {
  if (transport) transport->writeSequence({line, delimiter});
}

void LineReceiver::setRawMode() {
  lineMode_ = false;
  scan_.clean = 0;
}

void LineReceiver::setLineMode(std::string_view extra) {
  lineMode_ = true;
  scan_.clean = 0;
  if (!extra.empty()) dataReceived(extra);
}

std::string LineReceiver::clearLineBuffer() {
  scan_.clean = 0;
  return takeBuffered();
}

// --- LineOnlyReceiver --------------------------------------------------------------------

void LineOnlyReceiver::parseFrames() {
  while (!deliveryStopped() &&
         deliverLine(
             delimiter, MAX_LENGTH, scan_, [this](std::string_view l) { lineReceived(l); },
             [this](std::string_view l) { lineLengthExceeded(l); })) {
  }
}

void LineOnlyReceiver::lineLengthExceeded(std::string_view) {
  if (transport) transport->loseConnection(tooLong("line", MAX_LENGTH));
}

void LineOnlyReceiver::sendLine(std::string_view line) {
  if (transport) transport->writeSequence({line, delimiter});
}

// --- NetstringReceiver -------------------------------------------------------------------

void NetstringReceiver::parseFrames() {
  while (state_ != State::Broken && !deliveryStopped()) {
    std::string_view rest = remaining();
    if (rest.empty()) return;
    if (state_ == State::Length) {
      if (!parseLength(rest)) return;
      continue;
    }
    if (rest.size() < length_ + 1) return;
    if (rest[length_] != ',') {
      fail("netstring is not terminated by a comma");
      return;
    }
    advance(length_ + 1);
    state_ = State::Length;
    stringReceived(rest.substr(0, length_));
  }
}

bool NetstringReceiver::parseLength(std::string_view rest) {
  auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
  if (rest[0] == '-' || rest[0] == '+') {
    fail("netstring length has a sign");
    return false;
  }
  if (!isDigit(rest[0])) {
    fail("netstring does not start with a length (found a non-digit)");
    return false;
  }
  std::size_t value = 0, i = 0;
  for (; i < rest.size() && isDigit(rest[i]); ++i) {
    if (i == 1 && rest[0] == '0') {
      fail("netstring length has a leading zero");
      return false;
    }
    value = value * 10 + static_cast<std::size_t>(rest[i] - '0');
    // Rejected as soon as the digits show it, before any payload is buffered.
    if (value > MAX_LENGTH || value > (SIZE_MAX - 9) / 10) {
      fail(fmt::format("netstring length exceeds MAX_LENGTH ({} bytes)", MAX_LENGTH));
      return false;
    }
  }
  if (i == rest.size()) return false;  // more digits may follow
  if (rest[i] != ':') {
    fail("netstring length is not followed by a colon");
    return false;
  }
  length_ = value;
  advance(i + 1);
  state_ = State::Payload;
  return true;
}

void NetstringReceiver::fail(const std::string& why) {
  state_ = State::Broken;
  broken_ = true;
  discardBuffered();
  if (transport) transport->loseConnection(Failure(NetstringParseError(why)));
}

void NetstringReceiver::sendString(std::string_view string) {
  if (!transport) return;
  std::string length = std::to_string(string.size());
  transport->writeSequence({length, ":", string, ","});
}

// --- IntNStringReceiver ------------------------------------------------------------------

void IntNStringReceiver::parseFrames() {
  while (!broken_ && !deliveryStopped()) {
    std::string_view rest = remaining();
    if (rest.size() < prefixLength_) return;
    std::size_t length = 0;
    for (std::size_t k = 0; k < prefixLength_; ++k) {
      length = (length << 8) | static_cast<unsigned char>(rest[k]);
    }
    if (length > MAX_LENGTH) {
      broken_ = true;
      discardBuffered();
      lengthLimitExceeded(length);
      return;
    }
    if (rest.size() - prefixLength_ < length) return;
    advance(prefixLength_ + length);
    stringReceived(rest.substr(prefixLength_, length));
  }
}

void IntNStringReceiver::lengthLimitExceeded(std::size_t length) {
  if (!transport) return;
  transport->loseConnection(Failure(FrameTooLongError(
      fmt::format("string of {} bytes is longer than MAX_LENGTH ({} bytes)", length, MAX_LENGTH))));
}

void IntNStringReceiver::sendString(std::string_view string) {
  if (prefixLength_ < sizeof(std::size_t) && string.size() >> (8 * prefixLength_) != 0) {
    throw StringTooLongError(fmt::format(
        "a string of {} bytes does not fit a {}-byte length prefix", string.size(), prefixLength_));
  }
  if (!transport) return;
  char prefix[8];
  for (std::size_t k = 0; k < prefixLength_; ++k) {
    prefix[k] = static_cast<char>((string.size() >> (8 * (prefixLength_ - 1 - k))) & 0xff);
  }
  transport->writeSequence({std::string_view(prefix, prefixLength_), string});
}

}  // namespace spindle
