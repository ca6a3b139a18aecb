// Internal: the reactor's state, and the door transports use to reach it (ReactorAccess).
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "spindle/reactor.hpp"
#include "spindle/resolver.hpp"
#include "timer_queue.hpp"

namespace spindle {

/// Everything a Reactor holds; one per reactor. Loop-thread only, except the thread-call queue.
struct Reactor::Impl {
  enum class RunState { NotStarted, Running, Stopping, Stopped };

  struct Trigger {
    TriggerId id;
    Phase phase;
    std::string eventType;
    std::function<void()> fn;
  };

  explicit Impl(Reactor& self);
  ~Impl();

  void step();
  int computeTimeoutMs() const;
  void dispatch(int n);
  /// Stops the rest of the current batch from calling `fd`, which may be freed before then.
  void removedWhileDispatching(const FileDescriptor* fd);
  /// Forgets that epoll watches `fd` without telling epoll (its socket is about to close).
  void forgetRegistration(FileDescriptor& fd);
  void drainSoon();
  void drainThreadCalls();
  void disconnectAll();
  /// Runs the triggers of `eventType`, phase by phase; the loop's own events drain the
  /// end-of-step queue between phases.
  void fireEvent(std::string_view eventType, bool topLevel);
  void installSignalHandlers();
  void restoreSignalHandlers();

  Reactor& self;
  int epfd = -1;
  detail::TimerQueue timers;
  RunState state = RunState::NotStarted;

  std::vector<Trigger> triggers;
  TriggerId nextTriggerId = 1;

  // Cross-thread calls: a queue carries every call; the eventfd only rings the doorbell, and
  // only when it is not already ringing, so calls are never coalesced away.
  std::mutex threadMutex;
  std::vector<std::function<void()>> threadCalls, threadScratch;
  std::atomic<bool> wakePending{false};
  std::unique_ptr<FileDescriptor> waker;

  // Signal delivery (only when run() was asked to install handlers).
  std::unique_ptr<FileDescriptor> signalReader;
  int signalPipe[2] = {-1, -1};

  // Work to do at the end of the current step, after every callback on the stack returned:
  // delivering connectionLost and freeing closed transports. Most items name a descriptor and a
  // plain function, so queueing one allocates nothing; the vectors keep their capacity.
  struct SoonCall {
    std::shared_ptr<FileDescriptor> target;
    void (*fn)(FileDescriptor&) = nullptr;  // with target; neither set: just drop target
    std::function<void()> general;
  };
  std::vector<SoonCall> soon, soonScratch;
  bool drainingSoon = false;

  // Transports, ports and connection attempts, owned by the reactor while they are open
  // (an intrusive list through FileDescriptor).
  FileDescriptor* ownedHead = nullptr;
  std::size_t ownedCount = 0;
  // Descriptors of the user's that epoll watches, for disconnectAll at shutdown.
  std::unordered_map<FileDescriptor*, int> userRegistered;

  // The batch being dispatched. A descriptor removed meanwhile gets no further call from it:
  // its later event is cleared, or, for the one being called, currentRemoved is set.
  bool dispatching = false;
  bool currentRemoved = false;
  const FileDescriptor* dispatchCurrent = nullptr;
  int dispatchNext = 0;
  int dispatchCount = 0;
  std::vector<epoll_event> events;

  // One read buffer for every connection of this reactor: idle connections hold none.
  std::vector<char> readBuffer;

  std::shared_ptr<Resolver> resolver;
};

namespace detail {

/// True once this process has forked (in parent and child): sockets may then be shared.
bool processHasForked() noexcept;

/// The reactor services that transports need and users do not.
struct ReactorAccess {
  /// Runs `fn` at the end of the current reactor step (before the next wait), outside every
  /// callback now on the stack.
  static void callSoon(Reactor& r, std::function<void()> fn);
  /// The same for a call on a descriptor, which it keeps alive until then; allocates nothing.
  static void callSoon(Reactor& r, std::shared_ptr<FileDescriptor> target,
                       void (*fn)(FileDescriptor&)) {
    r.impl_->soon.push_back({std::move(target), fn, {}});
  }
  /// The reactor keeps `fd` alive until release().
  static void adopt(Reactor& r, std::shared_ptr<FileDescriptor> fd);
  /// Drops the reactor's ownership; the object is freed at the end of the step at the earliest.
  static void release(Reactor& r, FileDescriptor& fd);
  /// The owning reference of an adopted descriptor (null once released), typed.
  template <class T>
  static std::shared_ptr<T> self(T& fd) {
    return std::static_pointer_cast<T>(static_cast<FileDescriptor&>(fd).self_);
  }
  /// Stops watching `fd`, whose socket the caller closes next and has not shared: usually
  /// without a system call, as close() itself ends the registration.
  static void unwatchForClose(Reactor& r, FileDescriptor& fd);
  static std::span<char> readBuffer(Reactor& r) { return r.impl_->readBuffer; }
  static bool shuttingDown(const Reactor& r);
};

}  // namespace detail
}  // namespace spindle
