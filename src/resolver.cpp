// ThreadedResolver: getaddrinfo on worker threads, results delivered with callFromThread.
#include "spindle/resolver.hpp"

#include <netdb.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "spindle/reactor.hpp"

namespace spindle {

namespace {

ResolveResult lookup(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  ResolveResult out;
  if (rc != 0) {
    out.error = ::gai_strerror(rc);
    return out;
  }
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    Address a = Address::fromSockaddr(ai->ai_addr, ai->ai_addrlen);
    if (!a.valid()) continue;
    a = *Address::fromIp(a.host(), port);
    if (std::find(out.addresses.begin(), out.addresses.end(), a) == out.addresses.end()) {
      out.addresses.push_back(a);
    }
  }
  ::freeaddrinfo(res);
  if (out.addresses.empty()) out.error = "no addresses";
  return out;
}

}  // namespace

struct ThreadedResolver::Pool {
  struct Job {
    std::string host;
    uint16_t port;
    Callback done;
  };

  Pool(Reactor& r, int max) : reactor(r), maxThreads(std::max(1, max)) {}

  ~Pool() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
      jobs.clear();
    }
    wake.notify_all();
    for (auto& t : threads)
      t.join();
  }

  void submit(Job job) {
    {
      std::lock_guard lock(mutex);
      jobs.push_back(std::move(job));
      if (idle == 0 && static_cast<int>(threads.size()) < maxThreads) {
        threads.emplace_back([this] { work(); });
      }
    }
    wake.notify_one();
  }

  void work() {
    // Signals belong to the reactor's thread; a lookup thread must never take them.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    std::unique_lock lock(mutex);
    for (;;) {
      ++idle;
      wake.wait(lock, [this] { return stopping || !jobs.empty(); });
      --idle;
      if (stopping) return;
      Job job = std::move(jobs.front());
      jobs.pop_front();
      lock.unlock();
      ResolveResult result = lookup(job.host, job.port);
      reactor.callFromThread(
          [done = std::move(job.done), r = std::move(result)]() mutable { done(std::move(r)); });
      lock.lock();
    }
  }

  Reactor& reactor;
  const int maxThreads;
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Job> jobs;
  std::vector<std::thread> threads;
  int idle = 0;
  bool stopping = false;
};

ThreadedResolver::ThreadedResolver(Reactor& reactor, int maxThreads)
    : pool_(std::make_unique<Pool>(reactor, maxThreads)) {}

ThreadedResolver::~ThreadedResolver() = default;

void ThreadedResolver::resolveHostName(const std::string& host, uint16_t port, Callback done) {
  pool_->submit({host, port, std::move(done)});
}

}  // namespace spindle
