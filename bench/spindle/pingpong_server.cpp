// spindle's ping-pong server, on the public API only: a Protocol that echoes what it reads.
// Usage: pingpong-server ADDR PORT THREADS BLOCKSIZE   (the command line of Asio's and muduo's)
//
// THREADS must be 1: a spindle Reactor runs on one thread, and listenTCP offers no
// SO_REUSEPORT to spread one port over several reactors. BLOCKSIZE is accepted for the common
// command line and not needed: reads land in the reactor's shared buffer.
#include <sys/socket.h>

#include <spindle/spindle.hpp>

#include "bench_util.hpp"

namespace {

class Echo : public spindle::Protocol {
 public:
  void connectionMade() override { transport->setTcpNoDelay(true); }
  void dataReceived(std::string_view data) override { transport->write(data); }
};

}  // namespace

int main(int argc, char** argv) {
  auto a = bench::parseServerArgs(argc, argv, "pingpong-server");
  bench::raiseFdLimit();
  spindle::Reactor reactor;
  auto port = reactor.listenTCP(static_cast<uint16_t>(a.port),
                                spindle::Factory::forProtocol<Echo>(), SOMAXCONN, a.host);
  bench::announceListening("pingpong-server", a.host, port->getHost().port());
  reactor.run({.installSignalHandlers = true});
}
