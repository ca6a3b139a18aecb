// libevent echo server on bufferevents: the read callback moves the input buffer's chains to
// the output buffer (no copy). Reads are allowed up to 64 KiB (libevent's default caps them at
// 16 KiB), as a user tuning for throughput would.
// Usage: event-pingpong-server ADDR PORT THREADS BLOCKSIZE
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <csignal>

#include "bench_util.hpp"

namespace {

void onRead(bufferevent* bev, void*) {
  evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

void onEvent(bufferevent* bev, short what, void*) {
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) bufferevent_free(bev);
}

void onAccept(evconnlistener* listener, evutil_socket_t fd, sockaddr*, int, void*) {
  bench::setNoDelay(fd);
  event_base* base = evconnlistener_get_base(listener);
  bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  bufferevent_set_max_single_read(bev, 64 * 1024);
  bufferevent_setcb(bev, onRead, nullptr, onEvent, nullptr);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

}  // namespace

int main(int argc, char** argv) {
  auto a = bench::parseServerArgs(argc, argv, "event-pingpong-server");
  bench::raiseFdLimit();
  // libevent writes with write(2), not send(MSG_NOSIGNAL): a peer that closes while a reply is
  // queued would kill the process with SIGPIPE, so its users must ignore the signal.
  std::signal(SIGPIPE, SIG_IGN);
  event_base* base = event_base_new();
  sockaddr_in sa = bench::ipv4(a.host, a.port);
  evconnlistener* l =
      evconnlistener_new_bind(base, onAccept, nullptr, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                              SOMAXCONN, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  if (!l) bench::die("event-pingpong-server: cannot listen on %s:%d", a.host, a.port);
  bench::announceListening("event-pingpong-server", a.host,
                           bench::boundPort(evconnlistener_get_fd(l)));
  return event_base_dispatch(base);
}
