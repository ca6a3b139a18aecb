// Cross-thread calls into a loop, in spindle, libuv and Asio, one process per run:
//   threadcall-bench LIB THREADS N
// LIB: spindle (Reactor::callFromThread) | libuv (a mutex-guarded queue of calls, with
// uv_async_send as the doorbell: uv_async_send alone coalesces and would lose calls) |
// asio (asio::post). THREADS producer threads start once the loop runs and each makes N calls
// carrying (thread, sequence number). The loop counts them, checks each thread's sequence is
// 1, 2, 3, ... (no call lost or reordered), and stops after the last; gives up after 60 s.
// Prints one RESULT line; calls_per_s is over the wall time from the producers' start.
#include <atomic>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
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

// Loop-thread state: what arrived, in what order.
struct Tally {
  Tally(int threads, std::uint64_t n) : last(threads, 0), expected(threads * n) {}
  std::vector<std::uint64_t> last;
  std::uint64_t received = 0, reordered = 0, expected;
  double start = 0, end = 0;
  // Records call `seq` (1-based) of thread `t`; true when it was the last one expected.
  bool arrive(int t, std::uint64_t seq) {
    if (seq != last[t] + 1) ++reordered;
    last[t] = seq;
    if (++received == expected) {
      end = bench::now();
      return true;
    }
    return false;
  }
};

// Starts `threads` producers that each call post(t, seq) for seq = 1..n.
template <class Post>
std::vector<std::thread> startProducers(int threads, std::uint64_t n, Tally& tally, Post post) {
  tally.start = bench::now();
  std::vector<std::thread> producers;
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([=] {
      for (std::uint64_t seq = 1; seq <= n; ++seq)
        post(t, seq);
    });
  }
  return producers;
}

void runSpindle(int threads, std::uint64_t n, Tally& tally) {
  spindle::Reactor reactor;
  std::vector<std::thread> producers;
  reactor.callWhenRunning([&] {
    producers = startProducers(threads, n, tally, [&](int t, std::uint64_t seq) {
      reactor.callFromThread([&tally, &reactor, t, seq] {
        if (tally.arrive(t, seq)) reactor.stop();
      });
    });
  });
  auto guard = reactor.callLater(60, [&] { reactor.stop(); });
  reactor.run();
  for (auto& p : producers)
    p.join();
}

#if BENCH_HAVE_LIBUV
struct UvQueue {
  uv_async_t async;
  std::mutex mutex;
  std::vector<std::function<void()>> calls;
};

void runLibuv(int threads, std::uint64_t n, Tally& tally) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  UvQueue q;
  q.async.data = &q;
  uv_async_init(&loop, &q.async, [](uv_async_t* a) {
    auto* q = static_cast<UvQueue*>(a->data);
    std::vector<std::function<void()>> batch;
    {
      std::lock_guard lock(q->mutex);
      batch.swap(q->calls);
    }
    for (auto& fn : batch)
      fn();
  });
  uv_timer_t guard;
  uv_timer_init(&loop, &guard);
  guard.data = &loop;
  uv_timer_start(
      &guard, [](uv_timer_t* t) { uv_stop(static_cast<uv_loop_t*>(t->data)); }, 60000, 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&guard));
  auto producers = startProducers(threads, n, tally, [&](int t, std::uint64_t seq) {
    {
      std::lock_guard lock(q.mutex);
      q.calls.emplace_back([&tally, &loop, t, seq] {
        if (tally.arrive(t, seq)) uv_stop(&loop);
      });
    }
    uv_async_send(&q.async);
  });
  uv_run(&loop, UV_RUN_DEFAULT);
  for (auto& p : producers)
    p.join();
  uv_close(reinterpret_cast<uv_handle_t*>(&q.async), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}
#endif

#if BENCH_HAVE_ASIO
void runAsio(int threads, std::uint64_t n, Tally& tally) {
  asio::io_context io(1);
  auto work = asio::make_work_guard(io);
  asio::steady_timer guard(io, std::chrono::seconds(60));
  guard.async_wait([&](std::error_code ec) {
    if (!ec) io.stop();
  });
  std::vector<std::thread> producers;
  asio::post(io, [&] {
    producers = startProducers(threads, n, tally, [&](int t, std::uint64_t seq) {
      asio::post(io, [&tally, &io, t, seq] {
        if (tally.arrive(t, seq)) io.stop();
      });
    });
  });
  io.run();
  for (auto& p : producers)
    p.join();
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) bench::die("usage: threadcall-bench spindle|libuv|asio THREADS N");
  std::string_view lib = argv[1];
  const int threads = static_cast<int>(bench::parseInt(argv[2], "THREADS", 1, 64));
  const auto n = static_cast<std::uint64_t>(bench::parseInt(argv[3], "N", 1, 100000000));
  Tally tally(threads, n);
  const double cpu0 = bench::cpuSeconds();
  if (lib == "spindle") {
    runSpindle(threads, n, tally);
#if BENCH_HAVE_LIBUV
  } else if (lib == "libuv") {
    runLibuv(threads, n, tally);
#endif
#if BENCH_HAVE_ASIO
  } else if (lib == "asio") {
    runAsio(threads, n, tally);
#endif
  } else {
    bench::die("threadcall-bench: unknown or unavailable library '%s'", argv[1]);
  }
  const double cpu = bench::cpuSeconds() - cpu0;
  const double wall = (tally.end > 0 ? tally.end : bench::now()) - tally.start;
  const std::uint64_t lost = tally.expected - tally.received;
  std::printf(
      "RESULT lib=%s threads=%d calls=%llu received=%llu lost=%llu reordered=%llu wall_s=%.6f "
      "cpu_s=%.6f calls_per_s=%.0f\n",
      argv[1], threads, static_cast<unsigned long long>(tally.expected),
      static_cast<unsigned long long>(tally.received), static_cast<unsigned long long>(lost),
      static_cast<unsigned long long>(tally.reordered), wall, cpu, tally.received / wall);
  return lost == 0 && tally.reordered == 0 ? 0 : 1;
}
