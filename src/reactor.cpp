#include "spindle/reactor.hpp"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <ctime>

#include "reactor_impl.hpp"
#include "spindle/log.hpp"
#include "sys.hpp"

namespace spindle {

namespace {

constexpr std::size_t kReadBufferSize = 64 * 1024;
constexpr std::size_t kInitialEvents = 256;
constexpr std::size_t kMaxEvents = 4096;

std::error_code lastError() {
  return {errno, std::system_category()};
}

/// Reads the eventfd doorbell and runs the queued cross-thread calls.
class Waker : public FileDescriptor {
 public:
  Waker(std::function<void()> onWake, int fd) : onWake_(std::move(onWake)), fd_(fd) {}
  ~Waker() override { ::close(fd_); }
  int fileno() const override { return fd_; }
  void doRead() override {
    uint64_t count;
    while (::read(fd_, &count, sizeof count) < 0 && errno == EINTR) {
    }
    onWake_();
  }
  void doWrite() override {}
  void connectionLost(const Failure&) override {}
  void ring() {
    uint64_t one = 1;
    while (::write(fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }

 private:
  std::function<void()> onWake_;
  int fd_;
};

// Set in parent and child by fork(): from then on sockets may be shared with another process.
std::atomic<bool> gForked{false};

void noteFork() {
  gForked.store(true, std::memory_order_relaxed);
}

void runLogged(const std::function<void()>& fn, const char* what) {
  try {
    fn();
  } catch (...) {
    log::err("Unhandled error in {}: {}", what, Failure(std::current_exception()).toString());
  }
}

}  // namespace

bool detail::processHasForked() noexcept {
  return gForked.load(std::memory_order_relaxed);
}

// --- Impl --------------------------------------------------------------------------------

Reactor::Impl::Impl(Reactor& r) : self(r), timers(r) {
  static std::once_flag atFork;
  std::call_once(atFork, [] { ::pthread_atfork(nullptr, noteFork, noteFork); });
  epfd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) throw SystemError("epoll_create1 failed", lastError());
  int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) {
    ::close(epfd);
    throw SystemError("eventfd failed", lastError());
  }
  waker = std::make_unique<Waker>([this] { drainThreadCalls(); }, efd);
  events.resize(kInitialEvents);
  readBuffer.resize(kReadBufferSize);
}

Reactor::Impl::~Impl() {
  // Lookups under way finish first: their results would be posted into this reactor.
  resolver.reset();
  soon.clear();
  // Transports close their sockets in their destructors without calling back into us.
  while (ownedHead) {
    FileDescriptor* fd = ownedHead;
    ownedHead = fd->ownedNext_;
    fd->ownedPrev_ = fd->ownedNext_ = nullptr;
    std::shared_ptr<FileDescriptor> drop = std::move(fd->self_);
  }
  {
    std::lock_guard lock(threadMutex);
    threadCalls.clear();
  }
  waker.reset();
  ::close(epfd);
}

void Reactor::Impl::step() {
  if (timers.size() > 0) timers.runDue(self.seconds());
  drainSoon();
  if (state != RunState::Running) return;
  int n;
  do {
    n = detail::sys::epoll_wait(epfd, events.data(), static_cast<int>(events.size()),
                                computeTimeoutMs());
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw SystemError("epoll_wait failed", lastError());
  dispatch(n);
  drainSoon();
  if (static_cast<std::size_t>(n) == events.size() && events.size() < kMaxEvents) {
    events.resize(events.size() * 2);
  }
}

int Reactor::Impl::computeTimeoutMs() const {
  if (!soon.empty()) return 0;
  std::optional<double> next = timers.nextTime();
  if (!next) return -1;
  double wait = *next - self.seconds();
  if (wait <= 0) return 0;
  // Round up: waking a little early would only spin until the deadline.
  double ms = std::ceil(wait * 1000.0);
  return ms > 1e9 ? 1000000000 : static_cast<int>(ms);
}

void Reactor::Impl::removedWhileDispatching(const FileDescriptor* fd) {
  if (fd == dispatchCurrent) {
    currentRemoved = true;
    return;
  }
  // epoll reports a descriptor at most once per batch, so only a later event can name it, and
  // clearing that one is all it takes. The usual case (a connection closing in its own doRead)
  // never gets here.
  for (int j = dispatchNext; j < dispatchCount; ++j) {
    if (events[j].data.ptr == fd) {
      events[j].data.ptr = nullptr;
      break;
    }
  }
}

void Reactor::Impl::dispatch(int n) {
  dispatching = true;
  dispatchCount = n;
  for (int i = 0; i < n; ++i) {
    auto* fd = static_cast<FileDescriptor*>(events[i].data.ptr);
    if (!fd) continue;  // removed by an earlier callback of this batch
    const uint32_t ev = events[i].events;
    dispatchCurrent = fd;
    dispatchNext = i + 1;
    currentRemoved = false;
    try {
      if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && (fd->events_ & EPOLLIN)) {
        fd->doRead();
        if (currentRemoved) continue;
      }
      if ((ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) && (fd->events_ & EPOLLOUT)) fd->doWrite();
    } catch (...) {
      // Transports handle their protocols' errors; this is a user FileDescriptor's.
      Failure f(std::current_exception());
      log::err("Unhandled error in descriptor {}: {}", fd->fileno(), f.toString());
      if (!currentRemoved) {
        self.removeAll(*fd);
        runLogged([&] { fd->connectionLost(f); }, "connectionLost");
      }
    }
  }
  dispatching = false;
  dispatchCurrent = nullptr;
  dispatchCount = 0;
}

void Reactor::Impl::drainSoon() {
  if (drainingSoon) return;
  drainingSoon = true;
  while (!soon.empty()) {
    soonScratch.swap(soon);
    for (SoonCall& c : soonScratch) {
      if (c.fn) {
        runLogged([&] { c.fn(*c.target); }, "end-of-step call");
      } else if (c.general) {
        runLogged(c.general, "end-of-step call");
      }
    }
    // Dropping the references may free closed transports (and their protocols) here.
    soonScratch.clear();
  }
  drainingSoon = false;
}

void Reactor::Impl::drainThreadCalls() {
  // Clear the flag before taking the queue: a call pushed after the swap then rings again.
  wakePending.store(false);
  {
    std::lock_guard lock(threadMutex);
    threadScratch.swap(threadCalls);
  }
  for (auto& fn : threadScratch)
    runLogged(fn, "callFromThread call");
  threadScratch.clear();
}

void Reactor::Impl::disconnectAll() {
  std::vector<std::shared_ptr<FileDescriptor>> all;
  all.reserve(ownedCount);
  for (FileDescriptor* fd = ownedHead; fd; fd = fd->ownedNext_)
    all.push_back(fd->self_);
  std::vector<FileDescriptor*> users;
  for (auto& [ptr, _] : userRegistered) {
    if (ptr != waker.get() && ptr != signalReader.get()) users.push_back(ptr);
  }
  Failure reason(ConnectionLost("Connection lost: the reactor is shutting down"));
  for (auto& fd : all)
    runLogged([&] { fd->connectionLost(reason); }, "connectionLost");
  for (auto* fd : users) {
    self.removeAll(*fd);
    runLogged([&] { fd->connectionLost(reason); }, "connectionLost");
  }
  drainSoon();
}

void Reactor::Impl::fireEvent(std::string_view eventType, bool topLevel) {
  for (Phase phase : {Phase::Before, Phase::During, Phase::After}) {
    if (phase == Phase::During && eventType == "shutdown" && topLevel) disconnectAll();
    // Collect first: a trigger may add or remove triggers. A trigger fires at most once.
    std::vector<Trigger> due;
    for (auto it = triggers.begin(); it != triggers.end();) {
      if (it->phase == phase && it->eventType == eventType) {
        due.push_back(std::move(*it));
        it = triggers.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& trig : due)
      runLogged(trig.fn, "system event trigger");
    // Only the loop itself may free closed transports: a user's fireSystemEvent may be running
    // inside one of their callbacks.
    if (topLevel) drainSoon();
  }
}

// --- Reactor: running --------------------------------------------------------------------

Reactor::Reactor() : impl_(std::make_unique<Impl>(*this)) {
  addReader(*impl_->waker);
}

Reactor::~Reactor() = default;

void Reactor::run(RunOptions options) {
  Impl& im = *impl_;
  if (im.state == Impl::RunState::Running || im.state == Impl::RunState::Stopping) {
    throw ReactorAlreadyRunning();
  }
  if (im.state == Impl::RunState::Stopped) throw ReactorNotRestartable();
  im.state = Impl::RunState::Running;
  if (options.installSignalHandlers) im.installSignalHandlers();
  im.fireEvent("startup", true);
  try {
    while (im.state == Impl::RunState::Running)
      im.step();
  } catch (...) {
    im.state = Impl::RunState::Stopped;
    im.restoreSignalHandlers();
    throw;
  }
  im.state = Impl::RunState::Stopping;
  im.fireEvent("shutdown", true);
  im.state = Impl::RunState::Stopped;
  im.restoreSignalHandlers();
}

void Reactor::stop() {
  if (impl_->state != Impl::RunState::Running) throw ReactorNotRunning();
  impl_->state = Impl::RunState::Stopping;
}

bool Reactor::running() const noexcept {
  return impl_->state == Impl::RunState::Running;
}

void Reactor::callWhenRunning(std::function<void()> fn) {
  if (running()) {
    fn();
  } else {
    addSystemEventTrigger(Phase::After, "startup", std::move(fn));
  }
}

Reactor::TriggerId Reactor::addSystemEventTrigger(Phase phase, std::string_view eventType,
                                                  std::function<void()> fn) {
  TriggerId id = impl_->nextTriggerId++;
  impl_->triggers.push_back({id, phase, std::string(eventType), std::move(fn)});
  return id;
}

Reactor::TriggerId Reactor::addSystemEventTrigger(std::string_view phase,
                                                  std::string_view eventType,
                                                  std::function<void()> fn) {
  Phase p;
  if (phase == "before") {
    p = Phase::Before;
  } else if (phase == "during") {
    p = Phase::During;
  } else if (phase == "after") {
    p = Phase::After;
  } else {
    throw Error("unknown system event phase '" + std::string(phase) +
                "' (expected before, during or after)");
  }
  return addSystemEventTrigger(p, eventType, std::move(fn));
}

void Reactor::removeSystemEventTrigger(TriggerId id) {
  auto& t = impl_->triggers;
  auto it = std::find_if(t.begin(), t.end(), [id](const auto& x) { return x.id == id; });
  if (it == t.end()) throw Error("no system event trigger with id " + std::to_string(id));
  t.erase(it);
}

void Reactor::fireSystemEvent(std::string_view eventType) {
  impl_->fireEvent(eventType, false);
}

// --- Time --------------------------------------------------------------------------------

double Reactor::seconds() const {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

DelayedCall Reactor::callLater(double delay, std::function<void()> fn) {
  return impl_->timers.schedule(delay, std::move(fn));
}

std::vector<DelayedCall> Reactor::getDelayedCalls() const {
  return impl_->timers.all();
}

// --- Threads -----------------------------------------------------------------------------

void Reactor::callFromThread(std::function<void()> fn) {
  Impl& im = *impl_;
  {
    std::lock_guard lock(im.threadMutex);
    im.threadCalls.push_back(std::move(fn));
  }
  // A plain load first: while the bell is already rung, callers need not fight over the line.
  if (!im.wakePending.load(std::memory_order_relaxed) && !im.wakePending.exchange(true)) {
    static_cast<Waker&>(*im.waker).ring();
  }
}

// --- Descriptors -------------------------------------------------------------------------

void Reactor::setInterest(FileDescriptor& fd, uint32_t wanted) {
  const uint32_t old = fd.events_;
  if (old == wanted) return;
  epoll_event ev{};
  ev.events = wanted;
  ev.data.ptr = &fd;
  int op = old == 0 ? EPOLL_CTL_ADD : (wanted == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD);
  if (::epoll_ctl(impl_->epfd, op, fd.fileno(), &ev) < 0) {
    throw SystemError("epoll_ctl failed for descriptor " + std::to_string(fd.fileno()),
                      lastError());
  }
  fd.events_ = wanted;
  if (wanted == 0) {
    if (!fd.self_) impl_->userRegistered.erase(&fd);
    if (impl_->dispatching) impl_->removedWhileDispatching(&fd);
  } else if (old == 0 && !fd.self_) {
    impl_->userRegistered.emplace(&fd, 0);
  }
}

void Reactor::addReader(FileDescriptor& fd) {
  setInterest(fd, fd.events_ | EPOLLIN);
}
void Reactor::addWriter(FileDescriptor& fd) {
  setInterest(fd, fd.events_ | EPOLLOUT);
}
void Reactor::removeReader(FileDescriptor& fd) {
  setInterest(fd, fd.events_ & ~EPOLLIN);
}
void Reactor::removeWriter(FileDescriptor& fd) {
  setInterest(fd, fd.events_ & ~EPOLLOUT);
}
void Reactor::removeAll(FileDescriptor& fd) {
  setInterest(fd, 0);
}

void Reactor::Impl::forgetRegistration(FileDescriptor& fd) {
  fd.events_ = 0;
  if (!fd.self_) userRegistered.erase(&fd);
  if (dispatching) removedWhileDispatching(&fd);
}
bool Reactor::isReading(const FileDescriptor& fd) const noexcept {
  return fd.events_ & EPOLLIN;
}
bool Reactor::isWriting(const FileDescriptor& fd) const noexcept {
  return fd.events_ & EPOLLOUT;
}

// --- Resolver ----------------------------------------------------------------------------

void Reactor::installResolver(std::shared_ptr<Resolver> resolver) {
  impl_->resolver = std::move(resolver);
}

Resolver& Reactor::resolver() {
  if (!impl_->resolver) impl_->resolver = std::make_shared<ThreadedResolver>(*this);
  return *impl_->resolver;
}

// --- ReactorAccess -----------------------------------------------------------------------

namespace detail {

void ReactorAccess::callSoon(Reactor& r, std::function<void()> fn) {
  r.impl_->soon.push_back({nullptr, nullptr, std::move(fn)});
}

void ReactorAccess::adopt(Reactor& r, std::shared_ptr<FileDescriptor> fd) {
  Reactor::Impl& im = *r.impl_;
  FileDescriptor* p = fd.get();
  if (p->self_) return;
  p->self_ = std::move(fd);
  p->ownedPrev_ = nullptr;
  p->ownedNext_ = im.ownedHead;
  if (im.ownedHead) im.ownedHead->ownedPrev_ = p;
  im.ownedHead = p;
  ++im.ownedCount;
}

void ReactorAccess::release(Reactor& r, FileDescriptor& fd) {
  Reactor::Impl& im = *r.impl_;
  if (!fd.self_) return;
  if (fd.ownedPrev_) {
    fd.ownedPrev_->ownedNext_ = fd.ownedNext_;
  } else {
    im.ownedHead = fd.ownedNext_;
  }
  if (fd.ownedNext_) fd.ownedNext_->ownedPrev_ = fd.ownedPrev_;
  fd.ownedPrev_ = fd.ownedNext_ = nullptr;
  --im.ownedCount;
  // Freed at the end of the step, never under a callback of its own.
  im.soon.push_back({std::move(fd.self_), nullptr, {}});
}

void ReactorAccess::unwatchForClose(Reactor& r, FileDescriptor& fd) {
  if (fd.events_ == 0) return;
  // close() drops the epoll registration by itself, and the EPOLL_CTL_DEL would cost one more
  // system call per connection, unless another descriptor still refers to the same socket:
  // then the registration outlives the close and would report events for a freed object. Only
  // fork() (or a dup() of a transport's descriptor, which spindle never hands out) makes one,
  // so after a fork every close goes back to removing the registration first.
  if (processHasForked()) {
    r.removeAll(fd);
  } else {
    r.impl_->forgetRegistration(fd);
  }
}

bool ReactorAccess::shuttingDown(const Reactor& r) {
  return r.impl_->state == Reactor::Impl::RunState::Stopping ||
         r.impl_->state == Reactor::Impl::RunState::Stopped;
}

}  // namespace detail
}  // namespace spindle
