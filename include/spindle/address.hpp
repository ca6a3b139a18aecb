// Network addresses as values: an IP endpoint (Address) and an unresolved host and port (HostPort).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace spindle {

/// An IPv4 or IPv6 address and port (Twisted's IPv4Address / IPv6Address), printable as
/// `127.0.0.1:10000` or `[::1]:10000`. A default-constructed Address is empty (`valid()` false).
class Address {
 public:
  Address() = default;

  /// Parses a numeric IPv4 or IPv6 literal ("127.0.0.1", "::1", "[::1]"); nullopt otherwise.
  /// An empty host means the wildcard address of IPv4 (0.0.0.0).
  static std::optional<Address> fromIp(std::string_view host, uint16_t port);
  /// Copies a socket address returned by the kernel (accept, getpeername, getaddrinfo).
  static Address fromSockaddr(const sockaddr* addr, socklen_t len);

  bool valid() const noexcept {
    return storage_.sa.sa_family == AF_INET || storage_.sa.sa_family == AF_INET6;
  }
  bool isIPv6() const noexcept { return storage_.sa.sa_family == AF_INET6; }
  int family() const noexcept { return storage_.sa.sa_family; }
  /// The host as text without brackets: "127.0.0.1", "::1".
  std::string host() const;
  uint16_t port() const noexcept;
  /// "127.0.0.1:10000" or "[::1]:10000"; "<none>" when empty.
  std::string toString() const;

  const sockaddr* sockaddrPtr() const noexcept {
    return reinterpret_cast<const sockaddr*>(&storage_);
  }
  socklen_t sockaddrLen() const noexcept;

  friend bool operator==(const Address& a, const Address& b) noexcept;

 private:
  // Only what an IP address needs (28 bytes, not sockaddr_storage's 128): every connection
  // holds two of these.
  union Storage {
    sockaddr sa;
    sockaddr_in v4;
    sockaddr_in6 v6;
  };
  Storage storage_{};
};

std::ostream& operator<<(std::ostream& os, const Address& address);

/// A destination as given by the user: a host name or IP literal, and a port; not yet resolved.
struct HostPort {
  std::string host;
  uint16_t port = 0;
  /// "host:port", with IPv6 literals in brackets: "[::1]:10000".
  std::string toString() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

std::ostream& operator<<(std::ostream& os, const HostPort& hp);

/// True if `host` is a numeric IPv4 or IPv6 literal (no name lookup is needed).
bool isIPAddress(std::string_view host);

}  // namespace spindle

template <>
struct fmt::formatter<spindle::Address> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const spindle::Address& a, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(a.toString(), ctx);
  }
};

template <>
struct fmt::formatter<spindle::HostPort> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const spindle::HostPort& a, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(a.toString(), ctx);
  }
};
