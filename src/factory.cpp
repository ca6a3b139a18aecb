#include "spindle/factory.hpp"

#include "failures.hpp"
#include "spindle/log.hpp"

namespace spindle {

void Protocol::makeConnection(Transport& t) {
  transport = &t;
  connected = true;
  connectionMade();
}

void Transport::loseConnection() {
  loseConnection(Failure(ConnectionDone()));
}

std::unique_ptr<Protocol> Factory::buildProtocol(const Address&) {
  if (!protocol) {
    throw Error("Factory::buildProtocol: set `protocol` or override buildProtocol");
  }
  std::unique_ptr<Protocol> p = protocol();
  if (p) p->setFactory(this);
  return p;
}

void Factory::doStart() {
  if (numPorts_++ == 0) startFactory();
}

void Factory::doStop() {
  if (numPorts_ == 0) {
    log::err("Factory::doStop called more often than doStart");
    return;
  }
  if (--numPorts_ == 0) stopFactory();
}

}  // namespace spindle
