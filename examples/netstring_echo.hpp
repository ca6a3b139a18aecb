// The netstring echo server's protocol, in a header so tests can drive it on a string transport.
#pragma once

#include <spindle/spindle.hpp>

namespace netstring_echo {

/// Echoes every netstring back as a netstring. A malformed one makes NetstringReceiver close
/// the connection (after the echoes of the good netstrings before it are sent) with a
/// NetstringParseError naming the fault, which this protocol logs with the peer's address.
class NetstringEcho : public spindle::NetstringReceiver {
 public:
  void stringReceived(std::string_view string) override { sendString(string); }

  void connectionLost(const spindle::Failure& reason) override {
    if (reason.check<spindle::NetstringParseError>()) {
      spindle::log::msg(spindle::log::Level::Warn, "{} sent a malformed netstring ({}); closed",
                        transport->getPeer(), reason.getErrorMessage());
    }
  }
};

}  // namespace netstring_echo
