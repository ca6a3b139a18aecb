// TCP simultaneous open: a socket bound to 127.0.0.1:P that connects to 127.0.0.1:P, with
// nobody listening there, connects to itself. A reconnecting client whose source port happens to
// equal the closed port it retries would then "connect" and talk to itself; the connector must
// take that as refused.
#include "support.hpp"

namespace spindle::test {
namespace {

TEST_F(TcpTest, AConnectionToItselfIsRefused) {
  uint16_t number = unusedPort();
  ASSERT_NE(number, 0);
  auto self = Address::fromIp("127.0.0.1", number);
  ASSERT_TRUE(self);
  client->onFailed = [&](Connector&, const Failure&) { reactor.stop(); };
  connector = reactor.connectTCP("127.0.0.1", number, client, 5, *self);
  reactor.run();

  ASSERT_EQ(client->rec->failed.size(), 1u) << "the self-connection was accepted";
  const Failure& reason = client->rec->failed[0];
  EXPECT_TRUE(reason.check<ConnectionRefusedError>()) << reason.toString();
  EXPECT_NE(reason.getErrorMessage().find("itself"), std::string::npos) << reason.toString();
  EXPECT_TRUE(client->rec->conns.empty()) << "a protocol was built for the self-connection";
  EXPECT_TRUE(client->rec->lost.empty());
}

}  // namespace
}  // namespace spindle::test
