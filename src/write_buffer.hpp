// Internal: a connection's queue of bytes the kernel has not taken yet.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "spindle/bytes.hpp"

namespace spindle::detail {

/// Bytes waiting to be sent, in order, as segments: bytes copied from write(string_view) gather
/// in an owned segment; bytes from write(const SharedBytes&) are referenced, not copied.
///
///   segment:  +-------------------+------------------+------------------+
///             | sent (discarded)  |  readable bytes  |  spare capacity  |
///             +-------------------+------------------+------------------+
///             0                 start            size()       capacity() (owned only)
///
/// Consuming moves start; an owned segment drops its sent prefix when that outweighs the rest,
/// so each byte is copied O(1) times on average. Sent segments leave the front. An emptied
/// buffer gives back large allocations, so an idle connection holds no big buffer.
class WriteBuffer {
 public:
  static constexpr std::size_t kKeepCapacity = 64 * 1024;
  /// Shared bytes shorter than this are copied: a reference would cost more than the bytes.
  static constexpr std::size_t kShareAtLeast = 1024;
  /// The most segments handed to one sendmsg.
  static constexpr std::size_t kMaxIov = 64;

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  /// True when every byte is in one segment, so view() is all of them.
  bool contiguous() const noexcept { return segments_.size() - head_ <= 1; }
  /// The first segment's unsent bytes.
  std::string_view view() const noexcept {
    return empty() ? std::string_view() : segments_[head_].view();
  }

  void append(std::string_view bytes) {
    if (bytes.empty()) return;
    if (segments_.size() == head_ || segments_.back().shared()) segments_.emplace_back();
    Segment& tail = segments_.back();
    if (tail.start > 0 && tail.start >= tail.own.size() / 2) {
      tail.own.erase(0, tail.start);
      tail.start = 0;
    }
    tail.own.append(bytes);
    size_ += bytes.size();
  }

  void append(const SharedBytes& bytes) {
    if (bytes.size() < kShareAtLeast) {
      append(bytes.view());
      return;
    }
    Segment& s = segments_.emplace_back();
    s.ref = bytes;
    size_ += bytes.size();
  }

  /// Fills `iov` with up to `max` segments' unsent bytes, in order; returns how many.
  std::size_t gather(iovec* iov, std::size_t max) const noexcept {
    std::size_t n = 0;
    for (std::size_t i = head_; i < segments_.size() && n < max; ++i) {
      std::string_view v = segments_[i].view();
      iov[n++] = {const_cast<char*>(v.data()), v.size()};
    }
    return n;
  }

  void consume(std::size_t n) {
    size_ -= n;
    while (n > 0) {
      Segment& s = segments_[head_];
      std::size_t left = s.view().size();
      if (n < left) {
        s.start += n;
        return;
      }
      n -= left;
      s.ref = SharedBytes();  // sent: the owner may let the bytes go now
      ++head_;
    }
    if (empty()) {
      clear();
    } else if (head_ > 0 && head_ >= segments_.size() / 2) {
      segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

  void clear() {
    // Keep one owned segment's storage, unless it grew large, for the next partial write.
    bool keep = !segments_.empty() && !segments_.front().shared() &&
                segments_.front().own.capacity() <= kKeepCapacity;
    if (keep) {
      segments_.resize(1);
      segments_.front().own.clear();
      segments_.front().start = 0;
    } else {
      segments_.clear();
    }
    head_ = 0;
    size_ = 0;
  }

 private:
  struct Segment {
    std::string own;  // copied bytes, when ref is empty
    SharedBytes ref;  // referenced bytes
    std::size_t start = 0;
    bool shared() const noexcept { return !ref.empty(); }
    std::string_view view() const noexcept {
      return (shared() ? ref.view() : std::string_view(own)).substr(start);
    }
  };

  std::vector<Segment> segments_;
  std::size_t head_ = 0;  // segments before it are sent
  std::size_t size_ = 0;
};

}  // namespace spindle::detail
