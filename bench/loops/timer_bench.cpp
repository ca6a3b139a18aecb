// Timers in spindle, libuv and Asio doing the same work, one process per run:
//   timer-bench LIB PATTERN N [--max-delay-ms M] [--seed S]
// LIB: spindle | libuv | asio. PATTERN:
//   cancel-half   arm N timers with random delays in [1, M] ms, cancel a random half, run the rest
//   idle-timeout  arm N timers with delays in [M/2, M] ms; before they fire, 45% are cancelled and
//                 45% reset to a new delay in [M/2, M] (the idle-timeout pattern), 10% untouched
// Every library gets the same delays and choices (same seed). Checks that exactly the timers
// expected fired, and prints one RESULT line; ops counts arms, cancels, resets and fires, and
// ops_per_cpu_s divides them by the process's CPU time (waiting for deadlines costs none).
#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bench_util.hpp"

#if BENCH_HAVE_LIBUV
#include <uv.h>
#endif
#if BENCH_HAVE_ASIO
#define ASIO_STANDALONE 1
#define ASIO_NO_DEPRECATED 1
#include <asio.hpp>
#endif
#include <spindle/spindle.hpp>

namespace {

enum class Action : std::uint8_t { Keep, Cancel, Reset };

// The script every library follows.
struct Plan {
  std::vector<int> delayMs;          // initial delay of timer i
  std::vector<int> resetMs;          // new delay of timer i when it is reset
  std::vector<Action> action;        // what happens to timer i before it fires
  std::vector<std::uint32_t> order;  // the order in which the actions are applied
  std::size_t expectedFires = 0, cancels = 0, resets = 0;
  int maxDelayMs = 0;
};

Plan makePlan(std::string_view pattern, std::size_t n, int maxMs, unsigned seed) {
  Plan p;
  p.maxDelayMs = maxMs;
  std::mt19937 rng(seed);
  const bool half = pattern == "cancel-half";
  std::uniform_int_distribution<int> any(1, maxMs), late(std::max(1, maxMs / 2), maxMs);
  std::uniform_int_distribution<int> pct(0, 99);
  p.delayMs.resize(n);
  p.resetMs.resize(n);
  p.action.resize(n, Action::Keep);
  p.order.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    p.order[i] = static_cast<std::uint32_t>(i);
    p.delayMs[i] = half ? any(rng) : late(rng);
    p.resetMs[i] = late(rng);
    if (!half) {
      int r = pct(rng);
      p.action[i] = r < 45 ? Action::Cancel : r < 90 ? Action::Reset : Action::Keep;
    }
  }
  std::shuffle(p.order.begin(), p.order.end(), rng);
  if (half)
    for (std::size_t k = 0; k < n / 2; ++k)
      p.action[p.order[k]] = Action::Cancel;
  for (Action a : p.action) {
    if (a == Action::Cancel) ++p.cancels;
    if (a == Action::Reset) ++p.resets;
    if (a != Action::Cancel) ++p.expectedFires;
  }
  return p;
}

// What every run records: which timers fired, checked against the plan at the end.
struct Record {
  explicit Record(std::size_t n) : fired(n, 0) {}
  std::vector<std::uint8_t> fired;
  std::size_t fires = 0;
  double cpuEnd = 0, wallEnd = 0;  // taken when the loop returns, before tearing down
  void stop() {
    cpuEnd = bench::cpuSeconds();
    wallEnd = bench::now();
  }
  void fire(std::size_t i) {
    ++fired[i];
    ++fires;
  }
  // Timers that fired though cancelled, fired twice, or never fired though expected.
  std::size_t errors(const Plan& p) const {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < fired.size(); ++i)
      bad += (p.action[i] == Action::Cancel) ? fired[i] != 0 : fired[i] != 1;
    return bad;
  }
};

void runSpindle(const Plan& p, Record& rec) {
  spindle::Reactor reactor;
  const std::size_t n = p.delayMs.size();
  std::vector<spindle::DelayedCall> calls;
  calls.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    calls.push_back(reactor.callLater(p.delayMs[i] / 1000.0, [&rec, &reactor, &p, i] {
      rec.fire(i);
      if (rec.fires == p.expectedFires) reactor.stop();
    }));
  }
  for (std::uint32_t i : p.order) {
    if (p.action[i] == Action::Cancel) calls[i].cancel();
    if (p.action[i] == Action::Reset) calls[i].reset(p.resetMs[i] / 1000.0);
  }
  auto guard = reactor.callLater(p.maxDelayMs / 1000.0 + 5, [&] { reactor.stop(); });
  if (p.expectedFires > 0) reactor.run();
  rec.stop();
}

#if BENCH_HAVE_LIBUV
struct UvTimer {
  uv_timer_t handle;
  Record* rec;
  std::size_t index;
};

void runLibuv(const Plan& p, Record& rec) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  const std::size_t n = p.delayMs.size();
  std::vector<UvTimer> timers(n);
  auto onFire = [](uv_timer_t* h) {
    auto* t = reinterpret_cast<UvTimer*>(h);
    t->rec->fire(t->index);
  };
  for (std::size_t i = 0; i < n; ++i) {
    timers[i].rec = &rec;
    timers[i].index = i;
    uv_timer_init(&loop, &timers[i].handle);
    uv_timer_start(&timers[i].handle, onFire, static_cast<uint64_t>(p.delayMs[i]), 0);
  }
  for (std::uint32_t i : p.order) {
    if (p.action[i] == Action::Cancel) uv_timer_stop(&timers[i].handle);
    if (p.action[i] == Action::Reset)
      uv_timer_start(&timers[i].handle, onFire, static_cast<uint64_t>(p.resetMs[i]), 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);  // returns once no timer is active
  rec.stop();
  for (auto& t : timers)
    uv_close(reinterpret_cast<uv_handle_t*>(&t.handle), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}
#endif

#if BENCH_HAVE_ASIO
void runAsio(const Plan& p, Record& rec) {
  asio::io_context io(1);
  const std::size_t n = p.delayMs.size();
  std::vector<asio::steady_timer> timers;
  timers.reserve(n);
  auto wait = [&rec](asio::steady_timer& t, std::size_t i) {
    t.async_wait([&rec, i](std::error_code ec) {
      if (!ec) rec.fire(i);
    });
  };
  for (std::size_t i = 0; i < n; ++i) {
    timers.emplace_back(io, std::chrono::milliseconds(p.delayMs[i]));
    wait(timers.back(), i);
  }
  for (std::uint32_t i : p.order) {
    if (p.action[i] == Action::Cancel) timers[i].cancel();
    if (p.action[i] == Action::Reset) {
      timers[i].expires_after(std::chrono::milliseconds(p.resetMs[i]));  // cancels the wait
      wait(timers[i], i);
    }
  }
  io.run();  // returns once every wait completed or was aborted
  rec.stop();
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const char* usage =
      "usage: timer-bench spindle|libuv|asio cancel-half|idle-timeout N [--max-delay-ms M] "
      "[--seed S]";
  if (argc < 4) bench::die("%s", usage);
  std::string_view lib = argv[1], pattern = argv[2];
  if (pattern != "cancel-half" && pattern != "idle-timeout") bench::die("%s", usage);
  const auto n = static_cast<std::size_t>(bench::parseInt(argv[3], "N", 1, 100000000));
  int maxMs = 250;
  unsigned seed = 1;
  for (int i = 4; i + 1 < argc; i += 2) {
    std::string_view a = argv[i];
    if (a == "--max-delay-ms") {
      maxMs = static_cast<int>(bench::parseInt(argv[i + 1], "--max-delay-ms", 1, 60000));
    } else if (a == "--seed") {
      seed = static_cast<unsigned>(bench::parseInt(argv[i + 1], "--seed", 0, 1 << 30));
    } else {
      bench::die("%s", usage);
    }
  }
  const Plan plan = makePlan(pattern, n, maxMs, seed);
  Record rec(n);
  const double cpu0 = bench::cpuSeconds(), wall0 = bench::now();
  if (lib == "spindle") {
    runSpindle(plan, rec);
#if BENCH_HAVE_LIBUV
  } else if (lib == "libuv") {
    runLibuv(plan, rec);
#endif
#if BENCH_HAVE_ASIO
  } else if (lib == "asio") {
    runAsio(plan, rec);
#endif
  } else {
    bench::die("timer-bench: unknown or unavailable library '%s'", argv[1]);
  }
  const double cpu = rec.cpuEnd - cpu0, wall = rec.wallEnd - wall0;
  const std::size_t ops = n + plan.cancels + plan.resets + rec.fires;
  const std::size_t errors = rec.errors(plan);
  std::printf(
      "RESULT lib=%s pattern=%s timers=%zu cancels=%zu resets=%zu fires=%zu expected_fires=%zu "
      "errors=%zu ops=%zu cpu_s=%.6f wall_s=%.6f ops_per_cpu_s=%.0f\n",
      argv[1], argv[2], n, plan.cancels, plan.resets, rec.fires, plan.expectedFires, errors, ops,
      cpu, wall, ops / cpu);
  return errors == 0 ? 0 : 1;
}
