// get-poetry's address parser (poetry::parseAddress, poetry::parsePort): it only ever throws
// AddressError; what it accepts has a port in 1..65535 and a host without spaces or control
// bytes (an IPv6 host only when bracketed, and then a real IPv6 literal); formatting a result
// and parsing it again gives the same result; and parsePort agrees with a plain reference.
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "framing.hpp"
#include "poetry.hpp"

namespace {

// Digits only, not all zeros, at most 65535: written independently of parsePort.
std::optional<uint16_t> referencePort(std::string_view text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  std::size_t first = text.find_first_not_of('0');
  if (first == std::string_view::npos) return std::nullopt;  // zero
  text.remove_prefix(first);
  if (text.size() > 5) return std::nullopt;
  unsigned long value = std::stoul(std::string(text));
  if (value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

bool plainHostByte(unsigned char c) {
  return c > ' ' && c != 0x7f && c != '[' && c != ']' && c != '/';
}

void checkAccepted(std::string_view text, const spindle::HostPort& hp) {
  FUZZ_CHECK(hp.port >= 1);
  FUZZ_CHECK(!hp.host.empty());
  for (unsigned char c : hp.host)
    FUZZ_CHECK(plainHostByte(c));
  bool bracketed = text.front() == '[';
  FUZZ_CHECK(bracketed == (hp.host.find(':') != std::string::npos));
  if (bracketed) FUZZ_CHECK(spindle::isIPAddress(hp.host));

  // The text is the host as given, then ':' and the port, perhaps with leading zeros; a bare
  // port means the default host.
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    FUZZ_CHECK(hp.host == poetry::kDefaultHost);
    FUZZ_CHECK(referencePort(text) == hp.port);
  } else {
    std::string_view host = text.substr(0, colon);
    if (bracketed) host = host.substr(1, host.size() - 2);
    FUZZ_CHECK(host == hp.host);
    FUZZ_CHECK(referencePort(text.substr(colon + 1)) == hp.port);
  }

  std::string formatted = hp.toString();
  FUZZ_CHECK(fmt::format("{}", hp) == formatted);
  spindle::HostPort again = poetry::parseAddress(formatted);
  FUZZ_CHECK(again == hp);
  FUZZ_CHECK(again.toString() == formatted);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  FUZZ_CHECK(poetry::parsePort(text) == referencePort(text));
  std::optional<spindle::HostPort> hp;
  try {
    hp = poetry::parseAddress(text);
  } catch (const poetry::AddressError& e) {
    FUZZ_CHECK(*e.what() != '\0');
  }
  if (hp) checkAccepted(text, *hp);
  return 0;
}
