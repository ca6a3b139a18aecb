// Protocols and factories that opt in to half-close (HalfCloseableProtocol), for the tests of
// loseWriteConnection and readConnectionLost.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <string>

#include "support.hpp"

namespace spindle::test {

/// What to do when a half-close event arrives.
struct HalfHooks {
  std::function<void(Recorder&)> readLost;
  std::function<void(Recorder&)> writeLost;
};

/// A Recorder that opts in to half-close and notes "readLost" / "writeLost" in its events.
class HalfCloser : public Recorder, public HalfCloseableProtocol {
 public:
  HalfCloser(std::shared_ptr<ConnRecord> record, Hooks hooks, HalfHooks half)
      : Recorder(std::move(record), std::move(hooks)), half_(std::move(half)) {}
  void readConnectionLost() override {
    rec->events.push_back("readLost");
    if (half_.readLost) half_.readLost(*this);
  }
  void writeConnectionLost() override {
    rec->events.push_back("writeLost");
    if (half_.writeLost) half_.writeLost(*this);
  }

 private:
  HalfHooks half_;
};

class HalfCloseServerFactory : public TestServerFactory {
 public:
  std::unique_ptr<Protocol> buildProtocol(const Address&) override {
    return makeProtocol<HalfCloser>(buildRecord(*rec), hooks, half);
  }
  HalfHooks half;
};

class HalfCloseClientFactory : public TestClientFactory {
 public:
  std::unique_ptr<Protocol> buildProtocol(const Address&) override {
    return makeProtocol<HalfCloser>(buildRecord(*rec), hooks, half);
  }
  HalfHooks half;
};

/// How many times `event` appears in a record's events.
inline long countEvents(const ConnRecord& r, const std::string& event) {
  return std::count(r.events.begin(), r.events.end(), event);
}

}  // namespace spindle::test
