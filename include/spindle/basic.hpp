// Ready-made framings (Twisted's twisted.protocols.basic): lines, netstrings, and strings with a
// big-endian length prefix. Derive from one and implement its callback.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "spindle/protocol.hpp"

namespace spindle {

/// Base of the framing receivers: keeps partial frames between reads, lets the protocol pause
/// delivery (Twisted's _PauseableMixin), and stays correct when a callback feeds more data in
/// (setLineMode(extra)) or takes the buffer (clearLineBuffer).
///
/// Every framing delivers the same frames however the bytes are split across reads. Frames are
/// passed as views valid only during the callback.
class FramedReceiver : public Protocol {
 public:
  void dataReceived(std::string_view data) override;

  /// Stops delivering frames (even ones already buffered) and pauses the transport's reads.
  void pauseProducing();
  /// Resumes reads and delivers the frames buffered meanwhile, before returning.
  void resumeProducing();
  /// Stops delivering for good and stops the transport.
  void stopProducing();
  bool paused() const noexcept { return paused_; }

 protected:
  /// Delivers the complete frames at the front of remaining(), advancing past each frame before
  /// its callback runs; stops when deliveryStopped().
  virtual void parseFrames() = 0;
  /// The bytes not yet consumed in this pass.
  std::string_view remaining() const noexcept { return view_.substr(pos_); }
  void advance(std::size_t n) noexcept { pos_ += n; }
  /// True when the protocol paused or the transport is closing: deliver nothing more.
  bool deliveryStopped() const noexcept;
  /// Takes every byte not yet consumed, including bytes fed in from callbacks.
  std::string takeBuffered();
  /// Drops everything not yet consumed, for a receiver that gave up on its peer.
  void discardBuffered() noexcept;

  /// Where a line search left off: the first `clean` bytes of remaining() hold no delimiter
  /// (`with`), so a long line arriving in small pieces is scanned once, not once per piece.
  struct LineScan {
    std::size_t clean = 0;
    std::string with;
  };
  enum class LineResult { Line, Partial, TooLong };
  /// Takes the next line from remaining(): on Line, `line` is it (without the delimiter); on
  /// TooLong (longer than maxLength), `line` is everything buffered; both are consumed.
  LineResult takeLine(const std::string& delimiter, std::size_t maxLength, LineScan& scan,
                      std::string_view& line);
  /// takeLine, handing a line to `onLine` or an overlong one to `onTooLong`; true while more
  /// lines may follow.
  template <class OnLine, class OnTooLong>
  bool deliverLine(const std::string& delimiter, std::size_t maxLength, LineScan& scan,
                   OnLine onLine, OnTooLong onTooLong) {
    std::string_view line;
    switch (takeLine(delimiter, maxLength, scan, line)) {
      case LineResult::Line:
        onLine(line);
        return true;
      case LineResult::TooLong:
        onTooLong(line);
        return false;
      case LineResult::Partial:
        break;
    }
    return false;
  }

 private:
  void run(std::string_view view);

  std::string buffer_;   // bytes kept between reads: a partial frame
  std::string pending_;  // bytes fed in while a callback is running
  std::string_view view_;
  std::size_t pos_ = 0;
  bool busy_ = false;
  bool paused_ = false;
};

/// Splits the stream into lines (Twisted's LineReceiver), with a raw mode for binary payloads.
class LineReceiver : public FramedReceiver {
 public:
  /// Ends every line; settable. A change applies from the next line looked for.
  std::string delimiter = "\r\n";
  /// The longest line accepted, not counting the delimiter.
  std::size_t MAX_LENGTH = 16384;

  /// A line arrived, without its delimiter.
  virtual void lineReceived(std::string_view line) = 0;
  /// Bytes arrived in raw mode. The default throws: a protocol that uses raw mode overrides it.
  virtual void rawDataReceived(std::string_view data);
  /// A line longer than MAX_LENGTH arrived (`line` holds it and what followed, as buffered).
  /// The default closes the connection with FrameTooLongError.
  virtual void lineLengthExceeded(std::string_view line);

  /// Writes `line` followed by the delimiter.
  void sendLine(std::string_view line);
  /// From the next byte on, deliver raw data instead of lines.
  void setRawMode();
  /// From the next byte on, deliver lines; `extra` is then processed as if just received.
  void setLineMode(std::string_view extra = {});
  /// Takes and returns every byte buffered but not yet delivered.
  std::string clearLineBuffer();
  bool lineMode() const noexcept { return lineMode_; }

 protected:
  void parseFrames() override;

 private:
  bool lineMode_ = true;
  LineScan scan_;
};

/// A leaner line splitter with no raw mode (Twisted's LineOnlyReceiver). Unlike Twisted's, it
/// applies MAX_LENGTH exactly as LineReceiver does, so chunking never changes the outcome.
class LineOnlyReceiver : public FramedReceiver {
 public:
  std::string delimiter = "\r\n";
  std::size_t MAX_LENGTH = 16384;

  virtual void lineReceived(std::string_view line) = 0;
  /// The default closes the connection with FrameTooLongError.
  virtual void lineLengthExceeded(std::string_view line);
  void sendLine(std::string_view line);

 protected:
  void parseFrames() override;

 private:
  LineScan scan_;
};

/// Netstrings, `LEN:DATA,` (Twisted's NetstringReceiver). A malformed netstring — a length that
/// is not digits, has a sign or a leading zero, exceeds MAX_LENGTH, or lacks its colon or
/// comma — closes the connection with NetstringParseError naming the fault, as soon as the
/// bytes show it. Netstrings complete before the fault are delivered; nothing after it is.
class NetstringReceiver : public FramedReceiver {
 public:
  /// The longest payload accepted.
  std::size_t MAX_LENGTH = 99999;

  virtual void stringReceived(std::string_view string) = 0;
  /// Writes `string` as a netstring.
  void sendString(std::string_view string);
  /// True once the peer sent a malformed netstring.
  bool brokenPeer() const noexcept { return broken_; }

 protected:
  void parseFrames() override;

 private:
  bool parseLength(std::string_view rest);
  void fail(const std::string& why);

  enum class State { Length, Payload, Broken };
  State state_ = State::Length;
  std::size_t length_ = 0;
  bool broken_ = false;
};

/// Strings behind an N-byte big-endian length (Twisted's IntNStringReceiver); use
/// Int8StringReceiver, Int16StringReceiver or Int32StringReceiver.
class IntNStringReceiver : public FramedReceiver {
 public:
  /// The longest string accepted.
  std::size_t MAX_LENGTH = 99999;

  virtual void stringReceived(std::string_view string) = 0;
  /// A prefix announced more than MAX_LENGTH bytes. The default closes the connection with
  /// FrameTooLongError.
  virtual void lengthLimitExceeded(std::size_t length);
  /// Writes the length prefix and `string`; throws StringTooLongError if the prefix cannot
  /// hold its length.
  void sendString(std::string_view string);
  std::size_t prefixLength() const noexcept { return prefixLength_; }

 protected:
  explicit IntNStringReceiver(std::size_t prefixLength) : prefixLength_(prefixLength) {}
  void parseFrames() override;

 private:
  std::size_t prefixLength_;
  bool broken_ = false;  // after an oversized prefix the stream cannot be re-synchronised
};

/// Strings behind a 1-byte length.
class Int8StringReceiver : public IntNStringReceiver {
 public:
  Int8StringReceiver() : IntNStringReceiver(1) {}
};

/// Strings behind a 2-byte big-endian length.
class Int16StringReceiver : public IntNStringReceiver {
 public:
  Int16StringReceiver() : IntNStringReceiver(2) {}
};

/// Strings behind a 4-byte big-endian length.
class Int32StringReceiver : public IntNStringReceiver {
 public:
  Int32StringReceiver() : IntNStringReceiver(4) {}
};

}  // namespace spindle
