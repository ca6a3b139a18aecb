// SharedBytes: immutable bytes with shared ownership, for writing one buffer to many connections.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace spindle {

/// Immutable bytes that several owners share: Transport::write(const SharedBytes&) keeps a
/// reference to what the kernel cannot take at once instead of copying it, so a server that
/// sends one poem, file or broadcast to many connections holds it in memory once. The bytes
/// must not change while any copy exists. Copying a SharedBytes copies a reference, never the
/// bytes. Reference counting is thread-safe; a single SharedBytes object is not.
class SharedBytes {
 public:
  SharedBytes() = default;
  /// Takes `bytes` into a new shared buffer (one move, no byte copy).
  explicit SharedBytes(std::string bytes)
      : SharedBytes(std::make_shared<const std::string>(std::move(bytes))) {}
  /// Shares a string someone already owns through a shared_ptr.
  explicit SharedBytes(std::shared_ptr<const std::string> bytes)
      : view_(bytes ? std::string_view(*bytes) : std::string_view()), owner_(std::move(bytes)) {}
  /// Shares `view`, kept alive by `owner` (any object: a vector, a mapped file, an arena).
  SharedBytes(std::shared_ptr<const void> owner, std::string_view view)
      : view_(view), owner_(std::move(owner)) {}

  std::string_view view() const noexcept { return view_; }
  const char* data() const noexcept { return view_.data(); }
  std::size_t size() const noexcept { return view_.size(); }
  bool empty() const noexcept { return view_.empty(); }

  /// The bytes from `pos` (at most `n` of them), sharing this one's owner. pos past the end
  /// gives empty bytes.
  SharedBytes substr(std::size_t pos, std::size_t n = std::string_view::npos) const {
    if (pos > view_.size()) pos = view_.size();
    return SharedBytes(owner_, view_.substr(pos, n));
  }

 private:
  std::string_view view_;
  std::shared_ptr<const void> owner_;
};

}  // namespace spindle
