// Standalone Asio echo server in the shape of Asio's own performance test: each session owns a
// BLOCKSIZE buffer, reads some, writes it all back, reads again. One io_context, one thread.
// Usage: asio-pingpong-server ADDR PORT THREADS BLOCKSIZE
#define ASIO_STANDALONE 1
#define ASIO_NO_DEPRECATED 1
#include <asio.hpp>

#include <memory>
#include <vector>

#include "bench_util.hpp"

namespace {

using asio::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::size_t blockSize)
      : socket_(std::move(socket)), buffer_(blockSize) {}

  void start() {
    socket_.set_option(tcp::no_delay(true));
    read();
  }

 private:
  void read() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this()](std::error_code ec, std::size_t n) {
                              if (!ec) self->write(n);
                            });
  }
  void write(std::size_t n) {
    asio::async_write(socket_, asio::buffer(buffer_.data(), n),
                      [self = shared_from_this()](std::error_code ec, std::size_t) {
                        if (!ec) self->read();
                      });
  }

  tcp::socket socket_;
  std::vector<char> buffer_;
};

void accept(tcp::acceptor& acceptor, std::size_t blockSize) {
  acceptor.async_accept([&acceptor, blockSize](std::error_code ec, tcp::socket socket) {
    if (!ec) std::make_shared<Session>(std::move(socket), blockSize)->start();
    accept(acceptor, blockSize);
  });
}

}  // namespace

int main(int argc, char** argv) {
  auto a = bench::parseServerArgs(argc, argv, "asio-pingpong-server");
  bench::raiseFdLimit();
  asio::io_context io(1);
  tcp::endpoint ep(asio::ip::make_address(a.host), static_cast<unsigned short>(a.port));
  tcp::acceptor acceptor(io, ep, /*reuse_address=*/true);
  accept(acceptor, static_cast<std::size_t>(a.blockSize));
  bench::announceListening("asio-pingpong-server", a.host, acceptor.local_endpoint().port());
  io.run();
}
