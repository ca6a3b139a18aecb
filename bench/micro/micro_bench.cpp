// Google Benchmark micro-benchmarks of spindle's hot paths: the write buffer (internal,
// src/write_buffer.hpp) and the timer heap (through testing::Clock and Reactor::callLater).
// Line splitting is not here yet: it waits for a LineReceiver in the public API.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include <spindle/spindle.hpp>
#include <spindle/testing.hpp>

#include "write_buffer.hpp"

namespace {

using spindle::detail::WriteBuffer;

// The common case: the kernel refused one write; later it takes everything.
void BM_WriteBuffer_AppendConsumeAll(benchmark::State& state) {
  const std::string block(static_cast<std::size_t>(state.range(0)), 'x');
  WriteBuffer buf;
  for (auto _ : state) {
    buf.append(block);
    benchmark::DoNotOptimize(buf.view().data());
    buf.consume(buf.size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_WriteBuffer_AppendConsumeAll)->Arg(16)->Arg(4096)->Arg(65536);

// A slow reader: about 64 KiB stays queued, each send takes a little less than was appended,
// so the consumed prefix keeps being compacted away.
void BM_WriteBuffer_Backlog(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const std::string block(n, 'x');
  WriteBuffer buf;
  while (buf.size() < 64 * 1024)
    buf.append(block);
  for (auto _ : state) {
    buf.append(block);
    buf.consume(std::min(buf.size(), n - n / 8 + (buf.size() > 96 * 1024 ? n : 0)));
    benchmark::DoNotOptimize(buf.view().data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_WriteBuffer_Backlog)->Arg(512)->Arg(16384);

std::vector<double> randomDelays(std::size_t n, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> d(0.0, 1.0);
  std::vector<double> out(n);
  for (auto& x : out)
    x = d(rng);
  return out;
}

// Schedule one call and cancel it, with range(0) other calls in the heap.
void BM_TimerHeap_ScheduleCancel(benchmark::State& state) {
  spindle::testing::Clock clock;
  for (double d : randomDelays(static_cast<std::size_t>(state.range(0))))
    clock.callLater(d, [] {});
  double d = 0.5;
  for (auto _ : state) {
    auto call = clock.callLater(d, [] {});
    call.cancel();
    d = d > 0.9 ? 0.1 : d + 0.013;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_TimerHeap_ScheduleCancel)->Arg(0)->Arg(1000)->Arg(100000);

// Reset a random one of range(0) pending calls (the idle-timeout pattern).
void BM_TimerHeap_Reset(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  spindle::testing::Clock clock;
  std::vector<spindle::DelayedCall> calls;
  for (double d : randomDelays(n))
    calls.push_back(clock.callLater(d, [] {}));
  std::mt19937 rng(2);
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  std::uniform_real_distribution<double> delay(0.0, 1.0);
  for (auto _ : state)
    calls[pick(rng)].reset(delay(rng));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_TimerHeap_Reset)->Arg(1000)->Arg(100000);

// Schedule range(0) calls with random delays, then run them all: per call, one push and one pop.
void BM_TimerHeap_ScheduleRun(benchmark::State& state) {
  const auto delays = randomDelays(static_cast<std::size_t>(state.range(0)));
  std::size_t ran = 0;
  for (auto _ : state) {
    spindle::testing::Clock clock;
    for (double d : delays)
      clock.callLater(d, [&ran] { ++ran; });
    clock.advance(2.0);
  }
  benchmark::DoNotOptimize(ran);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_TimerHeap_ScheduleRun)->Arg(1000)->Arg(100000);

// The same path on a real reactor (which reads the monotonic clock on every callLater).
void BM_Reactor_CallLaterCancel(benchmark::State& state) {
  spindle::Reactor reactor;
  for (auto _ : state)
    reactor.callLater(1.0, [] {}).cancel();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Reactor_CallLaterCancel);

}  // namespace

BENCHMARK_MAIN();
