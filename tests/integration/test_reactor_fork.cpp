// A transport's socket shared with a forked child: closing it must still end its epoll
// registration, or the reactor would hear of a freed transport when the socket turns readable.
// (Without a fork, spindle lets close() end the registration and spares the EPOLL_CTL_DEL.)
#include <sys/wait.h>

#include "support.hpp"

namespace spindle::test {
namespace {

TEST(ReactorFork, ClosedTransportSharedWithAChildHearsNothingMore) {
  Reactor reactor;
  armWatchdog(reactor);
  auto server = std::make_shared<TestServerFactory>();
  auto port = listenLocal(reactor, server);

  int release[2];
  ASSERT_EQ(::pipe(release), 0);
  pid_t child = -1;
  Fd peer;

  server->hooks.made = [&](Recorder& p) {
    // The child inherits the accepted socket and holds it open until the test lets it go.
    child = ::fork();
    if (child == 0) {
      char c;
      ::close(release[1]);
      while (::read(release[0], &c, 1) < 0 && errno == EINTR) {
      }
      ::_exit(0);
    }
    // Closed from a later step, once the transport is registered with epoll.
    Transport* t = p.transport;
    reactor.callLater(0, [t] { t->abortConnection(); });
  };
  server->hooks.lost = [&](Recorder&, const Failure&) {
    // The transport is closed and is freed at the end of this step. The socket lives on in the
    // child, so bytes sent now make it readable: a registration left behind would report it.
    ASSERT_EQ(::send(peer.get(), "ping", 4, MSG_NOSIGNAL), 4);
    // Two more passes through epoll_wait (the data is already queued on loopback).
    reactor.callLater(0, [&] { reactor.callLater(0, [&] { reactor.stop(); }); });
  };

  peer = rawConnect(port->getHost().port());
  reactor.run();

  ::close(release[0]);
  ::close(release[1]);
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(server->rec->conns.size(), 1u);
  EXPECT_EQ(server->rec->conns[0]->lostCount, 1);
  EXPECT_TRUE(server->rec->conns[0]->reason->check<ConnectionAborted>());
}

}  // namespace
}  // namespace spindle::test
