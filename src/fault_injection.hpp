// Internal, for tests: the plan of faults that a library built with SPINDLE_FAULT_INJECTION
// injects into its socket calls (the wrappers of src/sys.hpp). Not part of the public contract,
// and absent from a normal build.
//
// A plan is a list of rules, each naming a call and what to do to it, and when:
//
//   fault::Scope plan({
//       fault::on(fault::Call::Send).every(3).shorten(0.5),   // every 3rd send: half the bytes
//       fault::on(fault::Call::Recv).nth(5).fail(EINTR),      // the 5th recv: EINTR
//       fault::on(fault::Call::Recv).randomly(0.2).shorten(),  // 1 in 5 recvs: a random length
//   }, /*seed=*/42);
//
// Calls are counted per kind from 1 when the plan is installed; the first rule that fires
// decides. Each fault is one the kernel may produce itself, so correct code must survive it:
//   - shorten: recv, send and sendmsg move fewer bytes than asked (at least one; a call of one
//     byte is left alone); epoll_wait returns fewer events than are ready.
//   - fail(e): the call returns -1 with errno `e` and does nothing, except connect with EINTR,
//     which (as POSIX says of an interrupted connect) still starts connecting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace spindle::detail::fault {

/// The calls a plan can disturb.
enum class Call : std::uint8_t { Recv, Send, Sendmsg, Accept, Connect, EpollWait };
inline constexpr std::size_t kCallKinds = 6;

/// One rule of a plan; build it with on(call) and the setters below.
struct Rule {
  enum class Effect : std::uint8_t { Shorten, Fail };

  Call call = Call::Recv;
  Effect effect = Effect::Fail;
  int error = 0;                ///< Fail: the errno
  double fraction = 0;          ///< Shorten: this fraction of the length; 0 picks one at random
  std::uint64_t whenNth = 0;    ///< fires on the nth call only, if set ...
  std::uint64_t whenEvery = 0;  ///< ... or on every multiple of this, if set ...
  double whenProbability = 0;   ///< ... or at random with this probability; if none: always
  std::uint64_t maxTimes = std::numeric_limits<std::uint64_t>::max();  ///< fires at most this often

  Rule& nth(std::uint64_t n) {
    whenNth = n;
    return *this;
  }
  Rule& every(std::uint64_t k) {
    whenEvery = k;
    return *this;
  }
  Rule& randomly(double p) {
    whenProbability = p;
    return *this;
  }
  Rule& limit(std::uint64_t times) {
    maxTimes = times;
    return *this;
  }
  Rule& fail(int err) {
    effect = Effect::Fail;
    error = err;
    return *this;
  }
  Rule& shorten(double f = 0) {
    effect = Effect::Shorten;
    fraction = f;
    return *this;
  }
};

inline Rule on(Call c) {
  Rule r;
  r.call = c;
  return r;
}

/// Replaces the plan (and zeroes the counts). Random rules draw from a generator seeded with
/// `seed`, so a run is reproducible. Thread-safe, but meant to be set before the reactor runs.
void install(std::vector<Rule> rules, std::uint64_t seed = 1);
/// Removes the plan: every call goes straight to the kernel again.
void clear();
/// Calls of `c` made since install().
std::uint64_t calls(Call c);
/// Faults injected into calls of `c` since install().
std::uint64_t injected(Call c);

/// A plan for the lifetime of the object (a test's scope).
class Scope {
 public:
  explicit Scope(std::vector<Rule> rules, std::uint64_t seed = 1) {
    install(std::move(rules), seed);
  }
  ~Scope() { clear(); }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
};

}  // namespace spindle::detail::fault
