// Internal: a connection's queue of bytes the kernel has not taken yet.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace spindle::detail {

/// Bytes waiting to be sent, in order.
///
///   +-------------------+------------------+------------------+
///   | sent (discarded)  |  readable bytes  |  spare capacity  |
///   +-------------------+------------------+------------------+
///   0                 start_         data_.size()      capacity()
///
/// Consuming only moves start_; the sent prefix is dropped when it outweighs the rest, so each
/// byte is copied O(1) times on average. An emptied buffer gives back large allocations, so an
/// idle connection holds no big buffer.
class WriteBuffer {
 public:
  static constexpr std::size_t kKeepCapacity = 64 * 1024;

  bool empty() const noexcept { return start_ == data_.size(); }
  std::size_t size() const noexcept { return data_.size() - start_; }
  std::string_view view() const noexcept { return std::string_view(data_).substr(start_); }

  void append(std::string_view bytes) {
    if (start_ > 0 && start_ >= data_.size() / 2) compact();
    data_.append(bytes);
  }

  void consume(std::size_t n) {
    start_ += n;
    if (empty()) clear();
  }

  void clear() {
    start_ = 0;
    data_.clear();
    if (data_.capacity() > kKeepCapacity) std::string().swap(data_);
  }

 private:
  void compact() {
    data_.erase(0, start_);
    start_ = 0;
  }

  std::string data_;
  std::size_t start_ = 0;
};

}  // namespace spindle::detail
