// The fault-injection layer of a SPINDLE_FAULT_INJECTION build: the plan (fault_injection.hpp)
// and the wrappers of sys.hpp that consult it. A normal build compiles nothing from this file.
#ifdef SPINDLE_FAULT_INJECTION

#include "fault_injection.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <mutex>

#include "sys.hpp"

namespace spindle::detail::fault {

namespace {

// What a call is to do, decided under the lock.
struct Decision {
  bool fail = false;
  int error = 0;
  std::size_t length = 0;  // the length to use (the one asked for when not shortened)
};

struct Plan {
  std::mutex mutex;
  std::atomic<bool> active{false};  // read without the lock: no plan costs one load per call
  std::vector<Rule> rules;
  std::vector<std::uint64_t> fired;  // per rule
  std::array<std::uint64_t, kCallKinds> calls{}, injected{};
  std::uint64_t random = 0;
};

Plan& plan() {
  static Plan p;
  return p;
}

// splitmix64: small, and the same sequence on every platform for a given seed.
std::uint64_t nextRandom(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double uniform(std::uint64_t& state) {
  return static_cast<double>(nextRandom(state) >> 11) * 0x1.0p-53;
}

bool fires(const Rule& r, std::uint64_t count, std::uint64_t& random) {
  if (r.whenNth) return count == r.whenNth;
  if (r.whenEvery) return count % r.whenEvery == 0;
  if (r.whenProbability > 0) return uniform(random) < r.whenProbability;
  return true;
}

// Counts the call and applies the first rule that fires. `length` is what the call was asked to
// move (0 for calls without one); a call that cannot be shortened is left alone.
Decision decide(Call call, std::size_t length) {
  Decision d;
  d.length = length;
  Plan& p = plan();
  if (!p.active.load(std::memory_order_acquire)) return d;
  std::lock_guard lock(p.mutex);
  const auto kind = static_cast<std::size_t>(call);
  const std::uint64_t count = ++p.calls[kind];
  for (std::size_t i = 0; i < p.rules.size(); ++i) {
    const Rule& r = p.rules[i];
    if (r.call != call || p.fired[i] >= r.maxTimes || !fires(r, count, p.random)) continue;
    if (r.effect == Rule::Effect::Shorten) {
      if (length <= 1) continue;
      const double f = r.fraction > 0 ? r.fraction : uniform(p.random);
      d.length = std::clamp<std::size_t>(static_cast<std::size_t>(f * length), 1, length - 1);
    } else {
      d.fail = true;
      d.error = r.error;
    }
    ++p.fired[i];
    ++p.injected[kind];
    break;
  }
  return d;
}

}  // namespace

void install(std::vector<Rule> rules, std::uint64_t seed) {
  Plan& p = plan();
  std::lock_guard lock(p.mutex);
  p.fired.assign(rules.size(), 0);
  p.rules = std::move(rules);
  p.calls.fill(0);
  p.injected.fill(0);
  p.random = seed;
  p.active.store(!p.rules.empty(), std::memory_order_release);
}

void clear() {
  install({}, 1);
}

std::uint64_t calls(Call c) {
  std::lock_guard lock(plan().mutex);
  return plan().calls[static_cast<std::size_t>(c)];
}

std::uint64_t injected(Call c) {
  std::lock_guard lock(plan().mutex);
  return plan().injected[static_cast<std::size_t>(c)];
}

}  // namespace spindle::detail::fault

namespace spindle::detail::sys {

using fault::Call;
using fault::decide;

namespace {

int failWith(int error) {
  errno = error;
  return -1;
}

}  // namespace

ssize_t recv(int fd, void* buf, size_t len, int flags) {
  auto d = decide(Call::Recv, len);
  if (d.fail) return failWith(d.error);
  return ::recv(fd, buf, d.length, flags);
}

ssize_t send(int fd, const void* buf, size_t len, int flags) {
  auto d = decide(Call::Send, len);
  if (d.fail) return failWith(d.error);
  return ::send(fd, buf, d.length, flags);
}

ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < msg->msg_iovlen; ++i)
    total += msg->msg_iov[i].iov_len;
  auto d = decide(Call::Sendmsg, total);
  if (d.fail) return failWith(d.error);
  if (d.length == total) return ::sendmsg(fd, msg, flags);
  // Shortened: send a copy of the pieces cut at the chosen length.
  std::vector<iovec> iov;
  for (std::size_t i = 0, left = d.length; i < msg->msg_iovlen && left > 0; ++i) {
    iovec piece = msg->msg_iov[i];
    piece.iov_len = std::min(piece.iov_len, left);
    left -= piece.iov_len;
    iov.push_back(piece);
  }
  msghdr cut = *msg;
  cut.msg_iov = iov.data();
  cut.msg_iovlen = iov.size();
  return ::sendmsg(fd, &cut, flags);
}

int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  auto d = decide(Call::Accept, 0);
  if (d.fail) return failWith(d.error);
  return ::accept4(fd, addr, len, flags);
}

int connect(int fd, const sockaddr* addr, socklen_t len) {
  auto d = decide(Call::Connect, 0);
  if (d.fail && d.error == EINTR) {
    // An interrupted connect goes on in the background; report it as the kernel would.
    int r = ::connect(fd, addr, len);
    return r == 0 || errno == EINPROGRESS ? failWith(EINTR) : r;
  }
  if (d.fail) return failWith(d.error);
  return ::connect(fd, addr, len);
}

int epoll_wait(int epfd, epoll_event* events, int maxEvents, int timeoutMs) {
  auto d = decide(Call::EpollWait, static_cast<std::size_t>(maxEvents));
  if (d.fail) return failWith(d.error);
  return ::epoll_wait(epfd, events, static_cast<int>(d.length), timeoutMs);
}

}  // namespace spindle::detail::sys

#endif  // SPINDLE_FAULT_INJECTION
