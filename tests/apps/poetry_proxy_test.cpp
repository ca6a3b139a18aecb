// The poetry proxy's cache and protocol on string transports, with a fetch the test fires by
// hand: one fetch for every client waiting, the cache, failures and retries, clients that leave.
#include <gtest/gtest.h>
#include <spindle/testing.hpp>

#include "proxy.hpp"

namespace {

using spindle::Failure;

class PoetryProxy : public ::testing::Test {
 protected:
  PoetryProxy() {
    factory->onFailure = [this](const spindle::Address&, const Failure& why) {
      failures.push_back(why);
    };
  }

  // A client connected to its own string transport.
  struct Client {
    spindle::testing::StringTransport transport;
    std::unique_ptr<spindle::Protocol> protocol;
  };
  Client& connect() {
    auto& c = *clients.emplace_back(std::make_unique<Client>());
    c.protocol = factory->buildProtocol(c.transport.getPeer());
    spindle::testing::connect(*c.protocol, c.transport);
    return c;
  }

  std::vector<spindle::Deferred<std::string>> upstream;  // one per fetch started
  std::shared_ptr<poetry::PoetryCache> cache =
      std::make_shared<poetry::PoetryCache>([this] { return upstream.emplace_back(); });
  std::shared_ptr<poetry::ProxyFactory> factory = std::make_shared<poetry::ProxyFactory>(cache);
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<Failure> failures;
};

TEST_F(PoetryProxy, ClientsArrivingDuringTheFetchWaitForIt) {
  auto& a = connect();
  auto& b = connect();
  auto& c = connect();
  EXPECT_EQ(cache->fetches(), 1u);
  EXPECT_TRUE(cache->fetching());
  EXPECT_EQ(a.transport.value(), "");
  upstream.at(0).callback("The shuttle's song.\n");
  for (Client* client : {&a, &b, &c}) {
    EXPECT_EQ(client->transport.value(), "The shuttle's song.\n");
    EXPECT_TRUE(client->transport.disconnecting());
  }
  EXPECT_EQ(cache->cached(), "The shuttle's song.\n");
  EXPECT_FALSE(cache->fetching());
}

TEST_F(PoetryProxy, LaterClientsAreServedFromTheCacheAtOnce) {
  connect();
  upstream.at(0).callback("Kept.\n");
  auto& later = connect();
  EXPECT_EQ(later.transport.value(), "Kept.\n");
  EXPECT_TRUE(later.transport.disconnecting());
  EXPECT_EQ(cache->fetches(), 1u);
}

TEST_F(PoetryProxy, AFailedFetchClosesTheWaitingClientsAndTheNextOneRetries) {
  auto& a = connect();
  auto& b = connect();
  upstream.at(0).errback(spindle::ConnectionRefusedError());
  for (Client* client : {&a, &b}) {
    EXPECT_EQ(client->transport.value(), "");
    EXPECT_TRUE(client->transport.disconnecting());
  }
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_TRUE(failures[0].check<spindle::ConnectionRefusedError>());
  EXPECT_FALSE(cache->cached());
  auto& c = connect();
  EXPECT_EQ(cache->fetches(), 2u);
  upstream.at(1).callback("Second try.\n");
  EXPECT_EQ(c.transport.value(), "Second try.\n");
}

TEST_F(PoetryProxy, AClientThatLeavesStopsWaitingAndTheFetchGoesOn) {
  auto& a = connect();
  auto& b = connect();
  a.protocol->connectionLost(Failure(spindle::ConnectionLost()));
  EXPECT_TRUE(cache->fetching());
  upstream.at(0).callback("For those who stayed.\n");
  EXPECT_EQ(a.transport.value(), "");
  EXPECT_EQ(b.transport.value(), "For those who stayed.\n");
  EXPECT_TRUE(failures.empty());
  EXPECT_EQ(cache->cached(), "For those who stayed.\n");
}

TEST_F(PoetryProxy, EveryClientLeavingDoesNotStopTheFetch) {
  auto& a = connect();
  a.protocol->connectionLost(Failure(spindle::ConnectionLost()));
  a.protocol.reset();
  upstream.at(0).errback(spindle::ConnectionLost());
  EXPECT_TRUE(failures.empty()) << "nobody was waiting";
  EXPECT_FALSE(cache->fetching());
}

TEST_F(PoetryProxy, TheFetchOutlivesTheCache) {
  connect().protocol->connectionLost(Failure(spindle::ConnectionLost()));
  factory.reset();
  cache.reset();
  upstream.at(0).callback("Nobody listens.\n");  // the coroutine still has its state
}

}  // namespace
