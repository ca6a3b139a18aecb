#include "timer_queue.hpp"

#include <algorithm>

#include "spindle/failure.hpp"
#include "spindle/log.hpp"

namespace spindle {

namespace detail {

TimerQueue::~TimerQueue() {
  // Detach every entry before freeing any callable: a callable's destructor may touch a handle.
  std::vector<std::shared_ptr<TimerEntry>> entries;
  entries.swap(heap_);
  for (auto& e : entries) {
    e->state = TimerState::Cancelled;
    e->queue = nullptr;
  }
  for (auto& e : entries)
    std::function<void()>().swap(e->fn);
}

DelayedCall TimerQueue::schedule(double delay, std::function<void()> fn) {
  auto e = std::make_shared<TimerEntry>();
  e->time = clock_.seconds() + std::max(delay, 0.0);
  e->seq = nextSeq_++;
  e->fn = std::move(fn);
  e->queue = this;
  heap_.push_back(e);
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
  fix(e.index);
}

std::size_t TimerQueue::runDue(double now) {
  const std::uint64_t limit = nextSeq_;
  std::size_t ran = 0;
  while (!heap_.empty() && heap_[0]->time <= now && heap_[0]->seq < limit) {
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
  return heap_[0]->time;
}

std::vector<DelayedCall> TimerQueue::all() const {
  std::vector<std::shared_ptr<TimerEntry>> sorted = heap_;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a->time != b->time ? a->time < b->time : a->seq < b->seq;
  });
  std::vector<DelayedCall> out;
  out.reserve(sorted.size());
  for (auto& e : sorted)
    out.push_back(DelayedCall(std::move(e)));
  return out;
}

bool TimerQueue::less(std::size_t a, std::size_t b) const noexcept {
  const TimerEntry& x = *heap_[a];
  const TimerEntry& y = *heap_[b];
  return x.time != y.time ? x.time < y.time : x.seq < y.seq;
}

void TimerQueue::place(std::size_t i, std::shared_ptr<TimerEntry> e) noexcept {
  e->index = i;
  heap_[i] = std::move(e);
}

void TimerQueue::siftUp(std::size_t i) noexcept {
  while (i > 0) {
    std::size_t parent = (i - 1) / 2;
    if (!less(i, parent)) break;
    std::swap(heap_[i], heap_[parent]);
    heap_[i]->index = i;
    heap_[parent]->index = parent;
    i = parent;
  }
}

void TimerQueue::siftDown(std::size_t i) noexcept {
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t smallest = i;
    std::size_t l = 2 * i + 1, r = l + 1;
    if (l < n && less(l, smallest)) smallest = l;
    if (r < n && less(r, smallest)) smallest = r;
    if (smallest == i) break;
    std::swap(heap_[i], heap_[smallest]);
    heap_[i]->index = i;
    heap_[smallest]->index = smallest;
    i = smallest;
  }
}

void TimerQueue::fix(std::size_t i) noexcept {
  if (i > 0 && less(i, (i - 1) / 2)) {
    siftUp(i);
  } else {
    siftDown(i);
  }
}

std::shared_ptr<TimerEntry> TimerQueue::removeAt(std::size_t i) noexcept {
  std::shared_ptr<TimerEntry> out = std::move(heap_[i]);
  std::shared_ptr<TimerEntry> last = std::move(heap_.back());
  heap_.pop_back();
  if (i < heap_.size()) {
    place(i, std::move(last));
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
