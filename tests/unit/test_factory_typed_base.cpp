// ProtocolFor<F, Base>: typed factory access on top of a ready-made protocol.
#include <gtest/gtest.h>
#include <spindle/basic.hpp>
#include <spindle/factory.hpp>
#include <spindle/policies.hpp>
#include <spindle/testing.hpp>

namespace {

struct RoomFactory;

struct Member : spindle::ProtocolFor<RoomFactory, spindle::TimeoutMixin<spindle::LineReceiver>> {
  using ProtocolFor::ProtocolFor;
  void lineReceived(std::string_view line) override;
};

struct RoomFactory : spindle::ServerFactory {
  explicit RoomFactory(spindle::IReactorTime& c) : clock(c) {}
  spindle::IReactorTime& clock;
  std::vector<std::string> heard;
  std::unique_ptr<spindle::Protocol> buildProtocol(const spindle::Address&) override {
    return makeProtocol<Member>(clock);
  }
};

void Member::lineReceived(std::string_view line) {
  factory().heard.emplace_back(line);
}

}  // namespace

TEST(ProtocolFor, TypedFactoryOnAFramingProtocolWithATimeout) {
  spindle::testing::Clock clock;
  RoomFactory f(clock);
  auto p = f.buildProtocol(*spindle::Address::fromIp("127.0.0.1", 1));
  spindle::testing::StringTransport t;
  p->makeConnection(t);
  auto& m = static_cast<Member&>(*p);
  m.setTimeout(1);
  p->dataReceived("hello\r\n");
  EXPECT_EQ(f.heard, std::vector<std::string>{"hello"});
  clock.advance(1);
  EXPECT_TRUE(t.disconnecting());
}
