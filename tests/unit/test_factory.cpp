// Factory and Protocol basics without sockets: counted start/stop, forProtocol, typed access
// to the factory, and makeConnection.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "spindle/factory.hpp"
#include "spindle/testing.hpp"

namespace spindle {
namespace {

class CountingFactory : public Factory {
 public:
  void startFactory() override { ++starts; }
  void stopFactory() override { ++stops; }
  int starts = 0, stops = 0;
};

TEST(Factory, DoStartAndDoStopAreCounted) {
  CountingFactory f;
  EXPECT_EQ(f.numPorts(), 0);
  f.doStart();
  f.doStart();
  EXPECT_EQ(f.starts, 1) << "startFactory runs once for the first user";
  EXPECT_EQ(f.numPorts(), 2);
  f.doStop();
  EXPECT_EQ(f.stops, 0) << "one user is left";
  EXPECT_EQ(f.numPorts(), 1);
  f.doStop();
  EXPECT_EQ(f.stops, 1) << "stopFactory runs after the last user stops";
  EXPECT_EQ(f.numPorts(), 0);
  f.doStart();
  EXPECT_EQ(f.starts, 2) << "a factory can be started again";
  f.doStop();
  EXPECT_EQ(f.stops, 2);
}

class Echo : public Protocol {
 public:
  void dataReceived(std::string_view data) override { transport->write(data); }
};

TEST(Factory, ForProtocolBuildsThatProtocolWithItsFactorySet) {
  auto f = Factory::forProtocol<Echo>();
  auto p = f->buildProtocol(*Address::fromIp("127.0.0.1", 1));
  ASSERT_TRUE(p);
  EXPECT_NE(dynamic_cast<Echo*>(p.get()), nullptr);
  EXPECT_EQ(p->factory(), f.get());
  auto q = f->buildProtocol(*Address::fromIp("127.0.0.1", 2));
  EXPECT_NE(p.get(), q.get()) << "one protocol per connection";
}

TEST(Factory, DefaultBuildProtocolUsesTheProtocolMember) {
  ServerFactory f;
  int built = 0;
  f.protocol = [&] {
    ++built;
    return std::make_unique<Echo>();
  };
  auto p = f.buildProtocol(*Address::fromIp("::1", 5));
  ASSERT_TRUE(p);
  EXPECT_EQ(built, 1);
  EXPECT_EQ(p->factory(), &f);
}

class Greeter;

class GreeterFactory : public ServerFactory {
 public:
  std::unique_ptr<Protocol> buildProtocol(const Address& addr) override;
  std::string greeting = "hello";
  int greeted = 0;
};

class Greeter : public ProtocolFor<GreeterFactory> {
 public:
  void connectionMade() override {
    transport->write(factory().greeting);  // typed access, no cast
    ++factory().greeted;
  }
};

std::unique_ptr<Protocol> GreeterFactory::buildProtocol(const Address&) {
  return makeProtocol<Greeter>();
}

TEST(Factory, ProtocolForGivesTypedAccessToItsFactory) {
  GreeterFactory f;
  f.greeting = "hi there";
  auto p = f.buildProtocol(*Address::fromIp("127.0.0.1", 1));
  ASSERT_TRUE(p);
  auto* g = dynamic_cast<Greeter*>(p.get());
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(&g->factory(), &f);
  testing::StringTransport t;
  testing::connect(*p, t);
  EXPECT_EQ(t.value(), "hi there");
  EXPECT_EQ(f.greeted, 1);
}

class Watcher : public Protocol {
 public:
  void connectionMade() override {
    sawTransport = transport != nullptr;
    sawConnected = connected;
    ++made;
  }
  bool sawTransport = false, sawConnected = false;
  int made = 0;
};

TEST(Protocol, MakeConnectionSetsTransportAndConnectedBeforeConnectionMade) {
  Watcher w;
  EXPECT_EQ(w.transport, nullptr);
  EXPECT_FALSE(w.connected);
  testing::StringTransport t;
  w.makeConnection(t);
  EXPECT_EQ(w.transport, &t);
  EXPECT_TRUE(w.connected);
  EXPECT_TRUE(w.sawTransport);
  EXPECT_TRUE(w.sawConnected);
  EXPECT_EQ(w.made, 1);
}

TEST(Protocol, SetFactory) {
  Watcher w;
  EXPECT_EQ(w.factory(), nullptr);
  Factory f;
  w.setFactory(&f);
  EXPECT_EQ(w.factory(), &f);
}

}  // namespace
}  // namespace spindle
