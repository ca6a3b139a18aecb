// Internal: the timer heap behind Reactor::callLater and testing::Clock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "spindle/delayed_call.hpp"

namespace spindle::detail {

enum class TimerState : std::uint8_t { Pending, Called, Cancelled };

struct TimerEntry {
  double time = 0;
  std::uint64_t seq = 0;  // breaks ties: equal times run in scheduling order
  std::size_t index = 0;  // position in the heap, so cancel and reset are O(log n)
  TimerState state = TimerState::Pending;
  std::function<void()> fn;
  TimerQueue* queue = nullptr;       // null once run, cancelled, or the queue is gone
  std::shared_ptr<TimerEntry> self;  // the heap's reference while pending
};

/// A 4-ary min-heap of timed calls ordered by (time, seq), with each entry knowing its index.
/// The keys live in the heap array itself, so sifting compares without touching the entries.
/// Owned by one scheduler; every method runs on that scheduler's thread.
class TimerQueue {
 public:
  explicit TimerQueue(const IReactorTime& clock) : clock_(clock) {}
  /// Pending calls become cancelled: handles that outlive the scheduler stay safe to query.
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  DelayedCall schedule(double delay, std::function<void()> fn);
  void cancel(TimerEntry& e);
  void reschedule(TimerEntry& e, double time);
  double now() const { return clock_.seconds(); }

  /// Runs, in order, the calls due at `now` that were scheduled before this pass began.
  /// Returns how many ran. Exceptions from calls are logged; the pass goes on.
  std::size_t runDue(double now);
  /// The time of the soonest call, if any.
  std::optional<double> nextTime() const;
  std::vector<DelayedCall> all() const;
  std::size_t size() const noexcept { return heap_.size(); }

 private:
  struct Slot {
    double time;
    std::uint64_t seq;
    TimerEntry* entry;
  };
  static bool before(const Slot& a, const Slot& b) noexcept {
    return a.time != b.time ? a.time < b.time : a.seq < b.seq;
  }
  void put(std::size_t i, const Slot& s) noexcept {
    heap_[i] = s;
    s.entry->index = i;
  }
  void siftUp(std::size_t i) noexcept;
  void siftDown(std::size_t i) noexcept;
  void fix(std::size_t i) noexcept;
  /// Takes entry `i` out of the heap and returns the heap's reference to it.
  std::shared_ptr<TimerEntry> removeAt(std::size_t i) noexcept;

  const IReactorTime& clock_;
  std::vector<Slot> heap_;
  std::uint64_t nextSeq_ = 0;
};

}  // namespace spindle::detail
