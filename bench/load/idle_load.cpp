// Holds idle connections open, for the idle-memory measurement.
//   idle-load HOST PORT CONNECTIONS SECONDS
// Opens CONNECTIONS connections (at most 256 connecting at a time), sends one byte on each and
// waits for its echo, so the server has surely accepted and served every one. Then prints
// "READY N" and holds them until SECONDS pass or standard input closes, and exits.
#include <poll.h>
#include <sys/epoll.h>

#include <vector>

#include "bench_util.hpp"

int main(int argc, char** argv) {
  if (argc != 5) bench::die("usage: idle-load HOST PORT CONNECTIONS SECONDS");
  sockaddr_in sa =
      bench::ipv4(argv[1], static_cast<int>(bench::parseInt(argv[2], "PORT", 1, 65535)));
  const int total = static_cast<int>(bench::parseInt(argv[3], "CONNECTIONS", 1, 60000));
  const double seconds = bench::parseSeconds(argv[4], "SECONDS");
  bench::raiseFdLimit();
  const int epfd = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<int> fds(total, -1);
  std::vector<char> echoed(total, 0);
  int started = 0, inFlight = 0, ready = 0;
  const double deadline = bench::now() + 30;
  epoll_event events[256];
  while (ready < total) {
    if (bench::now() > deadline)
      bench::die("idle-load: only %d of %d connections ready", ready, total);
    while (started < total && inFlight < 256) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) bench::die("idle-load: socket: %s", std::strerror(errno));
      if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 && errno != EINPROGRESS)
        bench::die("idle-load: connect: %s", std::strerror(errno));
      epoll_event e{};
      e.events = EPOLLOUT;
      e.data.u32 = static_cast<uint32_t>(started);
      ::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e);
      fds[started++] = fd;
      ++inFlight;
    }
    int n = ::epoll_wait(epfd, events, 256, 100);
    for (int k = 0; k < n; ++k) {
      const uint32_t i = events[k].data.u32;
      if (events[k].events & EPOLLOUT) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || ::send(fds[i], "x", 1, MSG_NOSIGNAL) != 1)
          bench::die("idle-load: connection %u failed: %s", i, std::strerror(err ? err : errno));
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.u32 = i;
        ::epoll_ctl(epfd, EPOLL_CTL_MOD, fds[i], &e);
      } else {
        char c;
        if (::recv(fds[i], &c, 1, 0) != 1 || c != 'x') bench::die("idle-load: bad echo on %u", i);
        ::epoll_ctl(epfd, EPOLL_CTL_DEL, fds[i], nullptr);
        echoed[i] = 1;
        ++ready;
        --inFlight;
      }
    }
  }
  std::printf("READY %d\n", ready);
  std::fflush(stdout);
  // Hold until the driver closes our stdin or the time is up.
  pollfd p{0, POLLIN, 0};
  const double until = bench::now() + seconds;
  while (bench::now() < until) {
    if (::poll(&p, 1, 100) > 0) {
      char c;
      if (::read(0, &c, 1) <= 0) break;
    }
  }
  return 0;
}
