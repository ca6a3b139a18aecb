// getPoetry and transformPoem over real loopback sockets, against servers in this process: the
// poem, each way of failing, cancellation while connecting and while receiving, the timeout,
// and that nothing is left open afterwards (memory: LeakSanitizer in the sanitizer build).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <spindle/testing.hpp>

#include "poetry.hpp"
#include "support/child_process.hpp"
#include "transform.hpp"

namespace {

using Outcome = std::optional<spindle::Result<std::string>>;

int openFdCount() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

// A server that sends `greeting` on connect and then nothing (closing only if `close`), and
// counts the connections it saw end.
struct QuietServer : spindle::ServerFactory {
  struct Quiet : spindle::ProtocolFor<QuietServer> {
    void connectionMade() override {
      ++factory().made;
      if (!factory().greeting.empty()) transport->write(factory().greeting);
      if (factory().close) transport->loseConnection();
    }
    void connectionLost(const spindle::Failure&) override {
      ++factory().lost;
      if (factory().onLost) factory().onLost();
    }
  };
  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address&) override {
    return makeProtocol<Quiet>();
  }
  std::string greeting;
  bool close = false;
  int made = 0, lost = 0;
  std::function<void()> onLost;
};

class GetPoetryFetch : public ::testing::Test {
 protected:
  void SetUp() override {
    // A bound on every test: a reactor that hangs fails the test instead.
    reactor->callLater(5, [this] {
      ADD_FAILURE() << "timed out";
      reactor->stop();
    });
  }
  void TearDown() override {
    reactor.reset();
    EXPECT_EQ(openFdCount(), fdsBefore) << "descriptors leaked";
  }

  uint16_t listen(std::shared_ptr<spindle::Factory> factory) {
    return reactor->listenTCP(0, std::move(factory), 50, "127.0.0.1")->getHost().port();
  }
  // Keeps what `d` fires with and stops the reactor (unless told to wait for something else).
  void watch(spindle::Deferred<std::string> d, bool stop = true) {
    d.addBoth([this, stop](spindle::Result<std::string> r) {
      out.emplace(std::move(r));
      if (stop) reactor->stop();
    });
  }
  template <class E>
  bool failedWith() const {
    return out && out->failed() && out->failure().check<E>();
  }

  int fdsBefore = openFdCount();
  std::unique_ptr<spindle::Reactor> reactor = std::make_unique<spindle::Reactor>();
  Outcome out;
};

TEST_F(GetPoetryFetch, FetchesThePoemFromAPoetryServer) {
  auto poem = std::make_shared<const std::string>("Weft over warp,\nthe shuttle flies.\n");
  uint16_t port = listen(std::make_shared<poetry::SlowPoetryFactory>(
      *reactor, poem, poetry::ServeOptions{.delay = 0.001, .numBytes = 7}));
  std::size_t bytes = 0, chunks = 0;
  poetry::FetchOptions options;
  options.onChunk = [&](std::size_t n, const spindle::Address& peer) {
    bytes += n, ++chunks;
    EXPECT_EQ(peer.port(), port);
  };
  watch(poetry::getPoetry(*reactor, "127.0.0.1", port, options));
  reactor->run();
  ASSERT_TRUE(out && out->succeeded()) << out->failure().toString();
  EXPECT_EQ(out->value(), *poem);
  EXPECT_EQ(bytes, poem->size());
  EXPECT_GT(chunks, 1u);
}

TEST_F(GetPoetryFetch, TheCoroutineFormFetchesToo) {
  auto poem = std::make_shared<const std::string>("Bobbin and reel.\n");
  uint16_t port = listen(std::make_shared<poetry::SlowPoetryFactory>(
      *reactor, poem, poetry::ServeOptions{.delay = 0}));
  watch(poetry::getPoetryTask(*reactor, "127.0.0.1", port));
  reactor->run();
  ASSERT_TRUE(out && out->succeeded());
  EXPECT_EQ(out->value(), *poem);
}

TEST_F(GetPoetryFetch, AClosedPortIsRefused) {
  watch(poetry::getPoetry(*reactor, "127.0.0.1", spindle::test::closedPort()));
  reactor->run();
  EXPECT_TRUE(failedWith<spindle::ConnectionRefusedError>()) << out->failure().toString();
}

TEST_F(GetPoetryFetch, AnUnknownNameFailsWithDNSLookupErrorThroughTheResolver) {
  auto resolver = std::make_shared<spindle::testing::FakeResolver>();
  reactor->installResolver(resolver);
  watch(poetry::getPoetry(*reactor, "no-such-poet.invalid", 10000));
  reactor->run();
  EXPECT_TRUE(failedWith<spindle::DNSLookupError>());
  EXPECT_EQ(resolver->lookups(), std::vector<std::string>{"no-such-poet.invalid"});
}

TEST_F(GetPoetryFetch, ANameResolvesThroughTheResolver) {
  auto resolver = std::make_shared<spindle::testing::FakeResolver>();
  resolver->add("muse.test", {*spindle::Address::fromIp("127.0.0.1", 0)});
  reactor->installResolver(resolver);
  auto poem = std::make_shared<const std::string>("Distaff.\n");
  uint16_t port = listen(std::make_shared<poetry::SlowPoetryFactory>(
      *reactor, poem, poetry::ServeOptions{.delay = 0}));
  watch(poetry::getPoetry(*reactor, "muse.test", port));
  reactor->run();
  ASSERT_TRUE(out && out->succeeded());
  EXPECT_EQ(out->value(), *poem);
}

TEST_F(GetPoetryFetch, CancelWhileConnectingStopsTheAttempt) {
  auto server = std::make_shared<QuietServer>();
  uint16_t port = listen(server);
  auto d = poetry::getPoetry(*reactor, "127.0.0.1", port);
  watch(d, /*stop=*/false);
  d.cancel();  // before the reactor ever looked at the socket
  EXPECT_TRUE(failedWith<spindle::CancelledError>());
  reactor->callLater(0.05, [this] { reactor->stop(); });
  reactor->run();
  EXPECT_TRUE(failedWith<spindle::CancelledError>());
  EXPECT_EQ(server->made, server->lost) << "a connection the kernel completed was closed";
}

TEST_F(GetPoetryFetch, CancelWhileReceivingClosesTheConnection) {
  auto server = std::make_shared<QuietServer>();
  server->greeting = "The first line, and then";
  server->onLost = [this] { reactor->stop(); };  // the server saw the client go
  uint16_t port = listen(server);
  spindle::Deferred<std::string> d;
  poetry::FetchOptions options;
  options.onChunk = [&](std::size_t, const spindle::Address&) { d.cancel(); };
  d = poetry::getPoetry(*reactor, "127.0.0.1", port, options);
  watch(d, /*stop=*/false);
  reactor->run();
  EXPECT_TRUE(failedWith<spindle::CancelledError>());
  EXPECT_EQ(server->made, 1);
  EXPECT_EQ(server->lost, 1);
}

TEST_F(GetPoetryFetch, CancellingTheTaskCancelsTheFetch) {
  auto server = std::make_shared<QuietServer>();
  server->greeting = "A line, and then";
  server->onLost = [this] { reactor->stop(); };
  uint16_t port = listen(server);
  spindle::Deferred<std::string> d;
  poetry::FetchOptions options;
  options.onChunk = [&](std::size_t, const spindle::Address&) { d.cancel(); };
  d = poetry::getPoetryTask(*reactor, "127.0.0.1", port, options);
  watch(d, /*stop=*/false);
  reactor->run();
  EXPECT_TRUE(failedWith<spindle::CancelledError>());
  EXPECT_EQ(server->lost, 1) << "the connection was closed";
}

TEST_F(GetPoetryFetch, ASilentServerTimesOut) {
  auto server = std::make_shared<QuietServer>();
  uint16_t port = listen(server);
  auto start = std::chrono::steady_clock::now();
  poetry::FetchOptions options;
  options.timeout = 0.2;
  watch(poetry::getPoetry(*reactor, "127.0.0.1", port, options), /*stop=*/false);
  server->onLost = [this] { reactor->stop(); };
  reactor->run();
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
  EXPECT_TRUE(failedWith<spindle::DeferredTimeoutError>());
  EXPECT_EQ(server->lost, 1) << "the timeout closed the connection";
}

// A raw server resets the connection once the client has half a poem: not a poem.
TEST_F(GetPoetryFetch, APoemCutShortIsConnectionLost) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  int conn = -1;
  poetry::FetchOptions options;
  options.onChunk = [&](std::size_t, const spindle::Address&) {
    if (conn < 0) return;
    linger hard{1, 0};
    ::setsockopt(conn, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    ::close(conn);  // sends RST, now that the client has the bytes
    conn = -1;
  };
  watch(poetry::getPoetry(*reactor, "127.0.0.1", ntohs(addr.sin_port), options));
  // connectTCP has sent the SYN; the kernel completes the handshake without the reactor.
  pollfd pfd{listener, POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1);
  conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ::close(listener);
  ASSERT_GE(conn, 0);
  ASSERT_EQ(::write(conn, "half a po", 9), 9);
  reactor->run();
  if (conn >= 0) ::close(conn);
  EXPECT_TRUE(failedWith<spindle::ConnectionLost>()) << (out ? out->failure().toString() : "");
}

// --- transformPoem -----------------------------------------------------------------------------

class TransformPoemFetch : public GetPoetryFetch {
 protected:
  uint16_t transformServer() {
    auto service =
        std::make_shared<const poetry::TransformService>(poetry::TransformService::standard());
    return listen(
        std::make_shared<poetry::TransformFactory>(*reactor, service, poetry::TransformOptions{}));
  }
};

TEST_F(TransformPoemFetch, TransformsAPoem) {
  uint16_t port = transformServer();
  watch(poetry::transformPoem(*reactor, "127.0.0.1", port, "uppercase", "loom\n"));
  reactor->run();
  ASSERT_TRUE(out && out->succeeded());
  EXPECT_EQ(out->value(), "LOOM\n");
}

TEST_F(TransformPoemFetch, AFailingTransformIsNoAnswerError) {
  uint16_t port = transformServer();
  watch(poetry::transformPoem(*reactor, "127.0.0.1", port, "explode", "loom\n"));
  reactor->run();
  EXPECT_TRUE(failedWith<poetry::NoAnswerError>());
}

TEST_F(TransformPoemFetch, ADeadServerIsRefused) {
  watch(poetry::transformPoem(*reactor, "127.0.0.1", spindle::test::closedPort(), "uppercase",
                              "loom\n"));
  reactor->run();
  EXPECT_TRUE(failedWith<spindle::ConnectionRefusedError>());
}

TEST_F(TransformPoemFetch, ASilentServerTimesOut) {
  uint16_t port = listen(std::make_shared<QuietServer>());
  watch(poetry::transformPoem(*reactor, "127.0.0.1", port, "uppercase", "loom\n", 0.1));
  reactor->run();
  EXPECT_TRUE(failedWith<spindle::DeferredTimeoutError>());
}

}  // namespace
