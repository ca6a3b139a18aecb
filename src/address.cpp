#include "spindle/address.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <ostream>

namespace spindle {

std::optional<Address> Address::fromIp(std::string_view host, uint16_t port) {
  bool bracketed = false;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    bracketed = true;
    if (host.empty()) return std::nullopt;
  }
  if (host.size() > INET6_ADDRSTRLEN) return std::nullopt;
  // inet_pton reads a C string: a NUL would end the literal early and pass what follows it.
  if (host.find('\0') != std::string_view::npos) return std::nullopt;
  Address a;
  if (host.empty()) {
    auto* in = reinterpret_cast<sockaddr_in*>(&a.storage_);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    in->sin_addr.s_addr = htonl(INADDR_ANY);
    return a;
  }
  char buf[INET6_ADDRSTRLEN + 1];
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = '\0';
  auto* in = reinterpret_cast<sockaddr_in*>(&a.storage_);
  if (!bracketed && inet_pton(AF_INET, buf, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    return a;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
  if (inet_pton(AF_INET6, buf, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    return a;
  }
  return std::nullopt;
}

Address Address::fromSockaddr(const sockaddr* addr, socklen_t len) {
  Address a;
  if (addr && len > 0 && len <= static_cast<socklen_t>(sizeof(a.storage_)) &&
      (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)) {
    std::memcpy(&a.storage_, addr, len);
  }
  return a;
}

std::string Address::host() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (storage_.sa.sa_family == AF_INET) {
    // fmt rather than inet_ntop, which formats IPv4 through sprintf (a server logs every peer).
    const auto* b = reinterpret_cast<const unsigned char*>(
        &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr);
    return fmt::format("{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
  }
  if (storage_.sa.sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf,
              sizeof buf);
  }
  return buf;
}

uint16_t Address::port() const noexcept {
  if (storage_.sa.sa_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  }
  if (storage_.sa.sa_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return 0;
}

socklen_t Address::sockaddrLen() const noexcept {
  if (storage_.sa.sa_family == AF_INET) return sizeof(sockaddr_in);
  if (storage_.sa.sa_family == AF_INET6) return sizeof(sockaddr_in6);
  return 0;
}

std::string Address::toString() const {
  if (!valid()) return "<none>";
  if (isIPv6()) return fmt::format("[{}]:{}", host(), port());
  const auto* b = reinterpret_cast<const unsigned char*>(
      &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr);
  return fmt::format("{}.{}.{}.{}:{}", b[0], b[1], b[2], b[3], port());
}

bool operator==(const Address& a, const Address& b) noexcept {
  if (a.family() != b.family()) return false;
  if (!a.valid()) return true;
  if (a.port() != b.port()) return false;
  if (a.family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(&a.storage_)->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(&b.storage_)->sin_addr.s_addr;
  }
  const auto* x = reinterpret_cast<const sockaddr_in6*>(&a.storage_);
  const auto* y = reinterpret_cast<const sockaddr_in6*>(&b.storage_);
  return std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0 &&
         x->sin6_scope_id == y->sin6_scope_id;
}

std::ostream& operator<<(std::ostream& os, const Address& address) {
  return os << address.toString();
}

std::string HostPort::toString() const {
  if (host.find(':') != std::string::npos && host.front() != '[') {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

std::ostream& operator<<(std::ostream& os, const HostPort& hp) {
  return os << hp.toString();
}

bool isIPAddress(std::string_view host) {
  return !host.empty() && Address::fromIp(host, 0).has_value();
}

}  // namespace spindle
