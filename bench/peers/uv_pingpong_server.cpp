// libuv echo server written as a careful libuv user would: reads land in one shared 64 KiB
// buffer (alloc_cb), uv_try_write echoes at once, and only the rest is copied into a uv_write.
// Usage: uv-pingpong-server ADDR PORT THREADS BLOCKSIZE
#include <uv.h>

#include <cstdlib>
#include <cstring>

#include <csignal>

#include "bench_util.hpp"

namespace {

char readBuf[64 * 1024];

struct WriteReq {
  uv_write_t req;
  uv_buf_t buf;
  char data[];  // the bytes uv_try_write left over
};

void onClose(uv_handle_t* h) {
  std::free(h);
}

void onAlloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  *buf = uv_buf_init(readBuf, sizeof readBuf);
}

void onWritten(uv_write_t* req, int) {
  std::free(req);
}

void onRead(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  if (n < 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(s), onClose);
    return;
  }
  if (n == 0) return;
  uv_buf_t out = uv_buf_init(buf->base, static_cast<unsigned>(n));
  int w = uv_try_write(s, &out, 1);
  if (w == n) return;
  if (w < 0) {
    if (w != UV_EAGAIN) {
      uv_close(reinterpret_cast<uv_handle_t*>(s), onClose);
      return;
    }
    w = 0;
  }
  std::size_t rest = static_cast<std::size_t>(n - w);
  auto* req = static_cast<WriteReq*>(std::malloc(sizeof(WriteReq) + rest));
  std::memcpy(req->data, buf->base + w, rest);
  req->buf = uv_buf_init(req->data, static_cast<unsigned>(rest));
  uv_write(&req->req, s, &req->buf, 1, onWritten);
}

void onConnection(uv_stream_t* server, int status) {
  if (status < 0) return;
  auto* client = static_cast<uv_tcp_t*>(std::malloc(sizeof(uv_tcp_t)));
  uv_tcp_init(server->loop, client);
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(client)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(client), onClose);
    return;
  }
  uv_tcp_nodelay(client, 1);
  uv_read_start(reinterpret_cast<uv_stream_t*>(client), onAlloc, onRead);
}

}  // namespace

int main(int argc, char** argv) {
  auto a = bench::parseServerArgs(argc, argv, "uv-pingpong-server");
  bench::raiseFdLimit();
  // libuv writes with write(2), not send(MSG_NOSIGNAL): a peer that closes while a reply is
  // queued would kill the process with SIGPIPE, so its users must ignore the signal.
  std::signal(SIGPIPE, SIG_IGN);
  uv_loop_t* loop = uv_default_loop();
  uv_tcp_t server;
  uv_tcp_init(loop, &server);
  sockaddr_in sa = bench::ipv4(a.host, a.port);
  if (uv_tcp_bind(&server, reinterpret_cast<sockaddr*>(&sa), 0) != 0) bench::die("bind failed");
  if (int r = uv_listen(reinterpret_cast<uv_stream_t*>(&server), SOMAXCONN, onConnection))
    bench::die("listen: %s", uv_strerror(r));
  sockaddr_in bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&server, reinterpret_cast<sockaddr*>(&bound), &len);
  bench::announceListening("uv-pingpong-server", a.host, ntohs(bound.sin_port));
  return uv_run(loop, UV_RUN_DEFAULT);
}
