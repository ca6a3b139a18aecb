// The Reactor: the event loop at the centre of spindle (epoll readiness, timers, thread calls,
// system events, and the TCP endpoints built on them).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spindle/address.hpp"
#include "spindle/delayed_call.hpp"
#include "spindle/failure.hpp"

namespace spindle {

class ClientFactory;
class Connector;
class Factory;
class ListeningPort;
class Resolver;

namespace detail {
struct ReactorAccess;
}  // namespace detail

/// A descriptor the reactor watches (Twisted's IReadDescriptor / IWriteDescriptor).
/// The reactor does not own it: remove it (removeReader/removeWriter/removeAll) before
/// destroying it. Once removed, it gets no further events, even ones already collected.
class FileDescriptor {
 public:
  virtual ~FileDescriptor() = default;
  virtual int fileno() const = 0;
  /// The descriptor is readable (or has hung up / errored: read to find out).
  virtual void doRead() = 0;
  /// The descriptor is writable.
  virtual void doWrite() = 0;
  /// The reactor is shutting down with this descriptor still registered; it must close.
  virtual void connectionLost(const Failure& reason) = 0;

 private:
  friend class Reactor;
  friend struct detail::ReactorAccess;
  // What epoll is told to watch, so an interest change costs a syscall only when it changes.
  uint32_t events_ = 0;
  // For descriptors the reactor owns (its transports): an intrusive list and the owning
  // reference, so owning one costs no allocation and no lookup.
  FileDescriptor* ownedPrev_ = nullptr;
  FileDescriptor* ownedNext_ = nullptr;
  std::shared_ptr<FileDescriptor> self_;
};

/// The phases of a system event, in the order they run (Twisted's "before", "during", "after").
enum class Phase { Before, During, After };

/// Options for Reactor::run.
struct RunOptions {
  /// Install SIGINT and SIGTERM handlers that stop the reactor; the previous handlers are put
  /// back when run() returns. Off by default: spindle never touches signal dispositions unasked.
  bool installSignalHandlers = false;
};

/// An event loop on epoll: one per thread that runs it.
///
/// Every method except callFromThread must be called on the thread that runs (or will run) the
/// reactor. A reactor runs once: run() after it stopped throws ReactorNotRestartable.
class Reactor : public IReactorTime {
 public:
  using TriggerId = std::uint64_t;

  Reactor();
  ~Reactor() override;
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // --- Running ----------------------------------------------------------------------------

  /// Installs the signal handlers if asked, then fires "startup" (so callWhenRunning code runs
  /// with the handlers in place: a server may announce itself there without racing a SIGINT),
  /// loops until stop(), then fires "shutdown" (before, during, after) and returns. During shutdown
  /// every port stops listening and every open connection hears connectionLost. Throws
  /// ReactorAlreadyRunning or ReactorNotRestartable when misused.
  void run(RunOptions options = {});
  /// Asks the loop to stop after the current step. Throws ReactorNotRunning when the reactor is
  /// not running or already stopping.
  void stop();
  /// True from the start of run() until stop() is called.
  bool running() const noexcept;
  /// Runs `fn` once the reactor is running: at once if it is, else when run() starts.
  void callWhenRunning(std::function<void()> fn);
  /// Registers `fn` for `phase` of `eventType` ("startup" or "shutdown", or one of yours).
  TriggerId addSystemEventTrigger(Phase phase, std::string_view eventType,
                                  std::function<void()> fn);
  /// The same with Twisted's phase names: "before", "during" or "after" (else throws Error).
  TriggerId addSystemEventTrigger(std::string_view phase, std::string_view eventType,
                                  std::function<void()> fn);
  void removeSystemEventTrigger(TriggerId id);
  /// Runs the triggers of `eventType`: before, during, then after, each in order of adding.
  void fireSystemEvent(std::string_view eventType);

  // --- Time (IReactorTime) -----------------------------------------------------------------

  double seconds() const override;
  DelayedCall callLater(double delay, std::function<void()> fn) override;
  using IReactorTime::callLater;
  std::vector<DelayedCall> getDelayedCalls() const override;

  // --- Threads -----------------------------------------------------------------------------

  /// Runs `fn` on the reactor's thread soon. Safe from any thread, including signal-free
  /// contexts of other threads; every call runs exactly once, in order per calling thread.
  /// Calls made before run() run once it starts; calls still queued when it stops are dropped.
  void callFromThread(std::function<void()> fn);

  // --- TCP ---------------------------------------------------------------------------------

  /// Listens on `interface` (an IP literal; "" is every IPv4 interface, "::" every interface)
  /// and `port` (0 picks a free one). Throws CannotListenError if it cannot bind or listen.
  std::shared_ptr<ListeningPort> listenTCP(uint16_t port, std::shared_ptr<Factory> factory,
                                           int backlog = 50, std::string_view interface = "");
  /// Starts connecting to `host` (a name or an IP literal) and `port`; the factory hears
  /// startedConnecting before this returns, and the outcome later. `timeout` seconds covers
  /// the name lookup and the connect. Names resolve through resolver(); each address found is
  /// tried in turn. `bindAddress` fixes the local address.
  std::shared_ptr<Connector> connectTCP(std::string host, uint16_t port,
                                        std::shared_ptr<ClientFactory> factory, double timeout = 30,
                                        std::optional<Address> bindAddress = std::nullopt);

  /// Replaces the resolver used by connectTCP (the default is a ThreadedResolver).
  void installResolver(std::shared_ptr<Resolver> resolver);
  Resolver& resolver();

  // --- Descriptors (Twisted's IReactorFDSet) ------------------------------------------------

  void addReader(FileDescriptor& fd);
  void addWriter(FileDescriptor& fd);
  void removeReader(FileDescriptor& fd);
  void removeWriter(FileDescriptor& fd);
  /// Stops watching `fd` for anything.
  void removeAll(FileDescriptor& fd);
  bool isReading(const FileDescriptor& fd) const noexcept;
  bool isWriting(const FileDescriptor& fd) const noexcept;

 private:
  friend struct detail::ReactorAccess;
  struct Impl;
  void setInterest(FileDescriptor& fd, uint32_t events);
  std::unique_ptr<Impl> impl_;
};

}  // namespace spindle
