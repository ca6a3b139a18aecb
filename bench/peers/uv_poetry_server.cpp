// libuv poetry server: uv_try_write the poem from one shared copy, uv_write the rest (no copy:
// the poem outlives every request), then shut down and close.
// Usage: uv-poetry-server [--port N] [--iface ADDR] [--delay 0] POETRY-FILE
#include <uv.h>

#include <cstdlib>

#include <csignal>

#include "bench_util.hpp"

namespace {

std::string poem;

struct Client {
  uv_tcp_t tcp;
  uv_write_t write;
  uv_shutdown_t shutdown;
  uv_buf_t rest;
};

void onClose(uv_handle_t* h) {
  std::free(h);
}  // tcp is Client's first member

void onShutdown(uv_shutdown_t* req, int) {
  uv_close(reinterpret_cast<uv_handle_t*>(req->handle), onClose);
}

void finish(Client* c) {
  if (uv_shutdown(&c->shutdown, reinterpret_cast<uv_stream_t*>(&c->tcp), onShutdown) != 0)
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), onClose);
}

void onWritten(uv_write_t* req, int status) {
  auto* c = static_cast<Client*>(req->data);
  if (status < 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), onClose);
    return;
  }
  finish(c);
}

void onConnection(uv_stream_t* server, int status) {
  if (status < 0) return;
  auto* c = static_cast<Client*>(std::malloc(sizeof(Client)));
  uv_tcp_init(server->loop, &c->tcp);
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->tcp);
  if (uv_accept(server, stream) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), onClose);
    return;
  }
  uv_buf_t all = uv_buf_init(poem.data(), static_cast<unsigned>(poem.size()));
  int w = uv_try_write(stream, &all, 1);
  if (w < 0 && w != UV_EAGAIN) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), onClose);
    return;
  }
  std::size_t sent = w < 0 ? 0 : static_cast<std::size_t>(w);
  if (sent == poem.size()) return finish(c);
  c->rest = uv_buf_init(poem.data() + sent, static_cast<unsigned>(poem.size() - sent));
  c->write.data = c;
  uv_write(&c->write, stream, &c->rest, 1, onWritten);
}

}  // namespace

int main(int argc, char** argv) {
  auto a = bench::parsePoetryArgs(argc, argv, "uv-poetry-server");
  bench::raiseFdLimit();
  // libuv writes with write(2), not send(MSG_NOSIGNAL): a peer that closes while a reply is
  // queued would kill the process with SIGPIPE, so its users must ignore the signal.
  std::signal(SIGPIPE, SIG_IGN);
  poem = bench::readFile(a.file);
  uv_loop_t* loop = uv_default_loop();
  uv_tcp_t server;
  uv_tcp_init(loop, &server);
  sockaddr_in sa = bench::ipv4(a.iface.c_str(), a.port);
  if (uv_tcp_bind(&server, reinterpret_cast<sockaddr*>(&sa), 0) != 0) bench::die("bind failed");
  if (int r = uv_listen(reinterpret_cast<uv_stream_t*>(&server), SOMAXCONN, onConnection))
    bench::die("listen: %s", uv_strerror(r));
  sockaddr_in bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&server, reinterpret_cast<sockaddr*>(&bound), &len);
  bench::announceServing(a.file, ntohs(bound.sin_port));
  return uv_run(loop, UV_RUN_DEFAULT);
}
