// spindle-poetry-server: the poetry workload's server on spindle's public API, written like the
// peer servers here (a SOMAXCONN backlog, no line printed per connection), so the benchmark can
// tell the engine's cost from the choices of apps/poetry's poetry-server, which it also runs.
// Usage: spindle-poetry-server [--port N] [--iface ADDR] [--delay 0] POETRY-FILE
#include <sys/socket.h>

#include <memory>
#include <spindle/spindle.hpp>

#include "bench_util.hpp"

namespace {

// Like the peers, every connection sends from the one copy of the poem.
class Poetry : public spindle::Protocol {
 public:
  explicit Poetry(spindle::SharedBytes poem) : poem_(std::move(poem)) {}
  void connectionMade() override {
    transport->write(poem_);
    transport->loseConnection();
  }

 private:
  spindle::SharedBytes poem_;  // a reference to the factory's poem, not a copy of it
};

class PoetryFactory : public spindle::ServerFactory {
 public:
  explicit PoetryFactory(std::string poem) : poem_(std::move(poem)) {}
  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address&) override {
    return makeProtocol<Poetry>(poem_);
  }

 private:
  spindle::SharedBytes poem_;
};

}  // namespace

int main(int argc, char** argv) {
  auto a = bench::parsePoetryArgs(argc, argv, "spindle-poetry-server");
  bench::raiseFdLimit();
  spindle::Reactor reactor;
  auto port = reactor.listenTCP(static_cast<uint16_t>(a.port),
                                std::make_shared<PoetryFactory>(bench::readFile(a.file)), SOMAXCONN,
                                a.iface);
  bench::announceServing(a.file, port->getHost().port());
  reactor.run({.installSignalHandlers = true});
}
