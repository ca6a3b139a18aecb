// Standalone Asio poetry server: async_write of the whole poem from one shared copy, then close.
// Usage: asio-poetry-server [--port N] [--iface ADDR] [--delay 0] POETRY-FILE
#define ASIO_STANDALONE 1
#define ASIO_NO_DEPRECATED 1
#include <asio.hpp>

#include <memory>

#include "bench_util.hpp"

namespace {

using asio::ip::tcp;

void accept(tcp::acceptor& acceptor, const std::string& poem) {
  acceptor.async_accept([&acceptor, &poem](std::error_code ec, tcp::socket socket) {
    if (!ec) {
      auto s = std::make_shared<tcp::socket>(std::move(socket));
      asio::async_write(*s, asio::buffer(poem), [s](std::error_code, std::size_t) {
        std::error_code ignored;
        s->shutdown(tcp::socket::shutdown_send, ignored);
        s->close(ignored);
      });
    }
    accept(acceptor, poem);
  });
}

}  // namespace

int main(int argc, char** argv) {
  auto a = bench::parsePoetryArgs(argc, argv, "asio-poetry-server");
  bench::raiseFdLimit();
  const std::string poem = bench::readFile(a.file);
  asio::io_context io(1);
  tcp::endpoint ep(asio::ip::make_address(a.iface), static_cast<unsigned short>(a.port));
  tcp::acceptor acceptor(io, ep, /*reuse_address=*/true);
  accept(acceptor, poem);
  bench::announceServing(a.file, acceptor.local_endpoint().port());
  io.run();
}
