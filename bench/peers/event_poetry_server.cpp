// libevent poetry server: the poem goes into each bufferevent's output by reference (no copy);
// when the output has drained, the bufferevent is freed, which closes the socket.
// Usage: event-poetry-server [--port N] [--iface ADDR] [--delay 0] POETRY-FILE
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <csignal>

#include "bench_util.hpp"

namespace {

std::string poem;

void onWritten(bufferevent* bev, void*) {
  // Called once the output buffer drained to the low-water mark (0): the poem is out.
  bufferevent_free(bev);
}

void onEvent(bufferevent* bev, short what, void*) {
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) bufferevent_free(bev);
}

void onAccept(evconnlistener* listener, evutil_socket_t fd, sockaddr*, int, void*) {
  event_base* base = evconnlistener_get_base(listener);
  bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  bufferevent_setcb(bev, nullptr, onWritten, onEvent, nullptr);
  evbuffer_add_reference(bufferevent_get_output(bev), poem.data(), poem.size(), nullptr, nullptr);
  bufferevent_enable(bev, EV_WRITE);
}

}  // namespace

int main(int argc, char** argv) {
  auto a = bench::parsePoetryArgs(argc, argv, "event-poetry-server");
  bench::raiseFdLimit();
  // libevent writes with write(2), not send(MSG_NOSIGNAL): a peer that closes while a reply is
  // queued would kill the process with SIGPIPE, so its users must ignore the signal.
  std::signal(SIGPIPE, SIG_IGN);
  poem = bench::readFile(a.file);
  event_base* base = event_base_new();
  sockaddr_in sa = bench::ipv4(a.iface.c_str(), a.port);
  evconnlistener* l =
      evconnlistener_new_bind(base, onAccept, nullptr, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                              SOMAXCONN, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  if (!l) bench::die("event-poetry-server: cannot listen on %s:%d", a.iface.c_str(), a.port);
  bench::announceServing(a.file, bench::boundPort(evconnlistener_get_fd(l)));
  return event_base_dispatch(base);
}
