#include "timer_queue.hpp"

#include <algorithm>

#include "spindle/failure.hpp"
#include "spindle/log.hpp"

namespace spindle {

namespace detail {

TimerQueue::~TimerQueue() {
  // Detach every entry before freeing any callable: a callable's destructor may touch a handle.
  std::vector<std::shared_ptr<TimerEntry>> entries;
  entries.reserve(heap_.size());
  for (const Slot& s : heap_) {
    s.entry->state = TimerState::Cancelled;
    s.entry->queue = nullptr;
    entries.push_back(std::move(s.entry->self));
  }
  heap_.clear();
  for (auto& e : entries)
    std::function<void()>().swap(e->fn);
}

DelayedCall TimerQueue::schedule(double delay, std::function<void()> fn) {
  auto e = std::make_shared<TimerEntry>();
  e->time = clock_.seconds() + std::max(delay, 0.0);
  e->seq = nextSeq_++;
  e->fn = std::move(fn);
  e->queue = this;
  e->self = e;
  heap_.push_back({e->time, e->seq, e.get()});
  e->index = heap_.size() - 1;
  siftUp(e->index);
  return DelayedCall(std::move(e));
}

void TimerQueue::cancel(TimerEntry& e) {
  std::shared_ptr<TimerEntry> keep = removeAt(e.index);
  keep->state = TimerState::Cancelled;
  keep->queue = nullptr;
  keep->fn = nullptr;  // release captures now, not when the last handle goes
}

void TimerQueue::reschedule(TimerEntry& e, double time) {
  e.time = time;
  e.seq = nextSeq_++;
  heap_[e.index].time = e.time;
  heap_[e.index].seq = e.seq;
  fix(e.index);
}

std::size_t TimerQueue::runDue(double now) {
  const std::uint64_t limit = nextSeq_;
  std::size_t ran = 0;
  while (!heap_.empty() && heap_[0].time <= now && heap_[0].seq < limit) {
    std::shared_ptr<TimerEntry> e = removeAt(0);
    e->state = TimerState::Called;
    e->queue = nullptr;
    std::function<void()> fn = std::move(e->fn);
    e->fn = nullptr;
    ++ran;
    try {
      fn();
    } catch (...) {
      log::err("Unhandled error in timed call: {}", Failure(std::current_exception()).toString());
    }
  }
  return ran;
}

std::optional<double> TimerQueue::nextTime() const {
  if (heap_.empty()) return std::nullopt;
  return heap_[0].time;
}

std::vector<DelayedCall> TimerQueue::all() const {
  std::vector<Slot> sorted = heap_;
  std::sort(sorted.begin(), sorted.end(), before);
  std::vector<DelayedCall> out;
  out.reserve(sorted.size());
  for (const Slot& s : sorted)
    out.push_back(DelayedCall(s.entry->self));
  return out;
}

void TimerQueue::siftUp(std::size_t i) noexcept {
  const Slot moving = heap_[i];
  while (i > 0) {
    std::size_t parent = (i - 1) / 4;
    if (!before(moving, heap_[parent])) break;
    put(i, heap_[parent]);
    i = parent;
  }
  put(i, moving);
}

void TimerQueue::siftDown(std::size_t i) noexcept {
  const std::size_t n = heap_.size();
  const Slot moving = heap_[i];
  for (;;) {
    std::size_t first = 4 * i + 1;
    if (first >= n) break;
    std::size_t best = first;
    std::size_t last = std::min(first + 4, n);
    for (std::size_t c = first + 1; c < last; ++c) {
      if (before(heap_[c], heap_[best])) best = c;
    }
    if (!before(heap_[best], moving)) break;
    put(i, heap_[best]);
    i = best;
  }
  put(i, moving);
}

void TimerQueue::fix(std::size_t i) noexcept {
  if (i > 0 && before(heap_[i], heap_[(i - 1) / 4])) {
    siftUp(i);
  } else {
    siftDown(i);
  }
}

std::shared_ptr<TimerEntry> TimerQueue::removeAt(std::size_t i) noexcept {
  std::shared_ptr<TimerEntry> out = std::move(heap_[i].entry->self);
  const Slot last = heap_.back();
  heap_.pop_back();
  if (i < heap_.size()) {
    put(i, last);
    fix(i);
  }
  return out;
}

}  // namespace detail

// --- DelayedCall: a thin handle over a TimerEntry. ------------------------------------------

namespace {
void requirePending(const detail::TimerEntry* e) {
  if (!e || e->state == detail::TimerState::Cancelled) throw AlreadyCancelled();
  if (e->state == detail::TimerState::Called) throw AlreadyCalled();
}
}  // namespace

void DelayedCall::cancel() {
  requirePending(entry_.get());
  entry_->queue->cancel(*entry_);
}

void DelayedCall::reset(double secondsFromNow) {
  requirePending(entry_.get());
  detail::TimerQueue& q = *entry_->queue;
  q.reschedule(*entry_, q.now() + std::max(secondsFromNow, 0.0));
}

void DelayedCall::delay(double secondsLater) {
  requirePending(entry_.get());
  entry_->queue->reschedule(*entry_, entry_->time + secondsLater);
}

bool DelayedCall::active() const noexcept {
  return entry_ && entry_->state == detail::TimerState::Pending;
}
bool DelayedCall::called() const noexcept {
  return entry_ && entry_->state == detail::TimerState::Called;
}
bool DelayedCall::cancelled() const noexcept {
  return !entry_ || entry_->state == detail::TimerState::Cancelled;
}

double DelayedCall::getTime() const {
  if (!entry_) throw AlreadyCancelled();
  return entry_->time;
}

}  // namespace spindle
