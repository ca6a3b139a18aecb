// Half-close without sockets: how a protocol opts in (HalfCloseableProtocol, found through
// Protocol::halfCloseable, also behind a ProtocolWrapper), and StringTransport recording
// loseWriteConnection.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "spindle/policies.hpp"
#include "spindle/testing.hpp"

namespace spindle {
namespace {

using testing::StringTransport;

class Plain : public Protocol {};

/// Sends its request, half-closes, and answers the end of the reply.
class Requester : public Protocol, public HalfCloseableProtocol {
 public:
  void connectionMade() override {
    transport->write("GET /\r\n");
    transport->loseWriteConnection();
  }
  void readConnectionLost() override { ++readLost; }
  void writeConnectionLost() override { ++writeLost; }
  int readLost = 0, writeLost = 0;
};

TEST(HalfCloseOptIn, OnlyAHalfCloseableProtocolIsFound) {
  Plain plain;
  Requester requester;
  EXPECT_EQ(plain.halfCloseable(), nullptr);
  EXPECT_EQ(requester.halfCloseable(), static_cast<HalfCloseableProtocol*>(&requester));
}

TEST(HalfCloseOptIn, AProtocolWrapperPassesOnTheWrappedProtocolsChoice) {
  auto inner = std::make_shared<Factory>();
  WrappingFactory wrapping(inner);
  auto requester = std::make_unique<Requester>();
  Requester* r = requester.get();
  ProtocolWrapper wrapsOptedIn(wrapping, std::move(requester));
  ProtocolWrapper wrapsPlain(wrapping, std::make_unique<Plain>());
  EXPECT_EQ(wrapsOptedIn.halfCloseable(), static_cast<HalfCloseableProtocol*>(r));
  EXPECT_EQ(wrapsPlain.halfCloseable(), nullptr);
}

TEST(HalfCloseOptIn, StringTransportRecordsLoseWriteConnection) {
  StringTransport t;
  Requester p;
  EXPECT_FALSE(t.writeDisconnected());
  testing::connect(p, t);
  EXPECT_TRUE(t.writeDisconnected());
  EXPECT_FALSE(t.disconnecting()) << "a half-closed transport still reads";
  EXPECT_EQ(t.value(), "GET /\r\n");
  t.write("more");  // recorded, so a test can see a protocol write after half-closing
  EXPECT_EQ(t.value(), "GET /\r\nmore");
  EXPECT_EQ(p.readLost + p.writeLost, 0) << "the string transport calls nothing by itself";
}

}  // namespace
}  // namespace spindle
