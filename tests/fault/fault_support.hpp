// Shared pieces of the fault-injection tests: the plans, a live-object count, a checksum, and
// a client factory made of lambdas.
#pragma once

#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "fault_injection.hpp"
#include "integration/leak_check.hpp"
#include "integration/support.hpp"

namespace spindle::test {

namespace fault = spindle::detail::fault;
using fault::Call;

/// Every fault the kernel may hand a correct program on a healthy connection, at random: short
/// reads and writes, EINTR and EAGAIN on every call, fewer epoll events than are ready, an
/// interrupted connect, and accepts that fail for a while. None may change a byte.
inline std::vector<fault::Rule> chaos() {
  using fault::on;
  std::vector<fault::Rule> rules;
  for (Call c : {Call::Recv, Call::Send, Call::Sendmsg}) {
    rules.push_back(on(c).randomly(0.05).fail(EINTR));
    rules.push_back(on(c).randomly(0.05).fail(EAGAIN));
    rules.push_back(on(c).randomly(0.3).shorten());
  }
  rules.push_back(on(Call::Accept).nth(1).fail(EINTR));
  rules.push_back(on(Call::Accept).nth(2).fail(ECONNABORTED));
  rules.push_back(on(Call::Accept).randomly(0.3).fail(EAGAIN));
  rules.push_back(on(Call::Connect).nth(1).fail(EINTR));
  rules.push_back(on(Call::EpollWait).randomly(0.05).fail(EINTR));
  rules.push_back(on(Call::EpollWait).randomly(0.2).shorten());
  return rules;
}

/// Counts the live objects that hold one: a protocol holds one, so it counts live transports.
struct Counted {
  Counted() { ++live(); }
  ~Counted() { --live(); }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  static int& live() {
    static int n = 0;
    return n;
  }
};

/// 64-bit FNV-1a over a stream, fed piece by piece.
struct Checksum {
  std::uint64_t value = 14695981039346656037ull;
  std::size_t bytes = 0;
  void add(std::string_view data) {
    for (unsigned char c : data) {
      value ^= c;
      value *= 1099511628211ull;
    }
    bytes += data.size();
  }
};

/// A client factory whose protocol and outcome are lambdas.
struct LambdaClient : ClientFactory {
  std::function<std::unique_ptr<Protocol>()> make;
  std::function<void(const Failure&)> failed;
  std::unique_ptr<Protocol> buildProtocol(const Address&) override {
    auto p = make();
    p->setFactory(this);
    return p;
  }
  void clientConnectionFailed(Connector&, const Failure& reason) override {
    if (failed) failed(reason);
  }
};

/// The descriptors and live Counted objects, to compare with once every connection is gone.
struct FaultBaseline {
  int fds = openFdCount();
  int live = Counted::live();
  void expectNothingLeaked() const {
    EXPECT_EQ(openFdCount(), fds) << "descriptors leaked";
    EXPECT_EQ(Counted::live(), live) << "transports or protocols leaked";
  }
};

}  // namespace spindle::test
