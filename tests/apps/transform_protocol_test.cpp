// The transform service, and the transform server's protocol on a string transport and a fake
// clock: what is answered, what only closes, and with which reason.
#include <gtest/gtest.h>

#include <spindle/testing.hpp>

#include "transform.hpp"

namespace {

using poetry::TransformService;

std::string netstring(std::string_view s) {
  return std::to_string(s.size()) + ":" + std::string(s) + ",";
}

// --- The service ------------------------------------------------------------------------------

TEST(TransformService, StandardOffersTheTutorialsTransformAndMore) {
  auto service = TransformService::standard();
  EXPECT_EQ(service.names(),
            (std::vector<std::string>{"cummingsify", "explode", "reverse", "uppercase"}));
  EXPECT_TRUE(service.has("cummingsify"));
  EXPECT_FALSE(service.has("Cummingsify"));
  EXPECT_EQ(service.transform("cummingsify", "The Loom, WOVEN\n"), "the loom, woven\n");
  EXPECT_EQ(service.transform("uppercase", "The Loom, woven\n"), "THE LOOM, WOVEN\n");
}

TEST(TransformService, CaseChangesLeaveNonAsciiBytesAlone) {
  // As the tutorial's Python 2 str.lower() on bytes: UTF-8 stays valid, É stays É.
  EXPECT_EQ(poetry::cummingsify("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89");
  EXPECT_EQ(poetry::uppercase("\xC3\xA9t\xC3\xA9"), "\xC3\xA9T\xC3\xA9");
}

TEST(TransformService, ReverseKeepsEachUtf8CharacterWhole) {
  EXPECT_EQ(poetry::reverse("abc"), "cba");
  EXPECT_EQ(poetry::reverse(""), "");
  EXPECT_EQ(poetry::reverse("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x8E\xBBz"),
            "z\xF0\x9F\x8E\xBB\xE2\x82\xAC\xC3\xA9"
            "a");
}

TEST(TransformService, ExplodeAlwaysFails) {
  auto service = TransformService::standard();
  EXPECT_THROW(service.transform("explode", "anything"), poetry::TransformFailed);
  EXPECT_THROW(service.transform("explode", ""), poetry::TransformFailed);
}

TEST(TransformService, AnUnknownNameThrowsUnknownTransformError) {
  auto service = TransformService::standard();
  try {
    service.transform("xform_cummingsify", "poem");
    FAIL() << "no exception";
  } catch (const poetry::UnknownTransformError& e) {
    EXPECT_STREQ(e.what(), "no transform named \"xform_cummingsify\"");
  }
  // A long or binary name is shortened and made printable for the log.
  try {
    service.transform(std::string(100, 'n') + "\x01", "poem");
    FAIL() << "no exception";
  } catch (const poetry::UnknownTransformError& e) {
    EXPECT_EQ(std::string(e.what()), "no transform named \"" + std::string(40, 'n') + "...\"");
  }
}

TEST(TransformService, AddReplacesAndRejectsNamesNoRequestCouldCarry) {
  TransformService service;
  EXPECT_TRUE(service.names().empty());
  service.add("shout", [](std::string_view p) { return std::string(p) + "!"; });
  service.add("shout", [](std::string_view p) { return std::string(p) + "!!"; });
  EXPECT_EQ(service.transform("shout", "hey"), "hey!!");
  EXPECT_THROW(service.add("", poetry::cummingsify), std::invalid_argument);
  EXPECT_THROW(service.add("a.b", poetry::cummingsify), std::invalid_argument);
}

TEST(TransformRequest, SplitsAtTheFirstDot) {
  auto r = poetry::parseRequest("cummingsify.A poem. With dots.");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "cummingsify");
  EXPECT_EQ(r->poem, "A poem. With dots.");
  r = poetry::parseRequest(".poem");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "");
  r = poetry::parseRequest("name.");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->poem, "");
  EXPECT_FALSE(poetry::parseRequest("no dot at all"));
}

// --- The protocol -----------------------------------------------------------------------------

/// A transport whose buffered bytes the test sets, for the idle watch.
struct BufferingTransport : spindle::testing::StringTransport {
  std::size_t buffered = 0;
  std::size_t bufferedSize() const override { return buffered; }
};

// Public members: expectClosedUnanswered below drives the fixture too.
class TransformProtocolTest : public ::testing::Test {
 public:
  explicit TransformProtocolTest(poetry::TransformOptions options = {})
      : factory(clock, std::make_shared<const TransformService>(TransformService::standard()),
                options) {
    factory.onFailure = [this](const spindle::Address& peer, const spindle::Failure& why) {
      EXPECT_EQ(peer, transport.getPeer());
      failures.push_back(why);
    };
  }
  void connect() {
    protocol = factory.buildProtocol(*spindle::Address::fromIp("192.0.2.1", 1234));
    spindle::testing::connect(*protocol, transport);
  }
  // Ends the connection the way the transport would after the protocol closed it.
  void lose() {
    const auto& reason = transport.closeReason();
    protocol->connectionLost(transport.aborted() ? spindle::Failure(spindle::ConnectionAborted())
                             : reason            ? *reason
                                                 : spindle::Failure(spindle::ConnectionDone()));
  }
  poetry::TransformProtocol& transform() {
    return static_cast<poetry::TransformProtocol&>(*protocol);
  }

  spindle::testing::Clock clock;
  poetry::TransformFactory factory;
  BufferingTransport transport;
  std::unique_ptr<spindle::Protocol> protocol;
  std::vector<spindle::Failure> failures;
};

TEST_F(TransformProtocolTest, AnswersOneNetstringThenCloses) {
  connect();
  protocol->dataReceived(netstring("cummingsify.Warp and WEFT,\nTHE LOOM."));
  EXPECT_EQ(transport.value(), netstring("warp and weft,\nthe loom."));
  EXPECT_TRUE(transport.disconnecting());
  EXPECT_TRUE(transport.closeReason()->check<spindle::ConnectionDone>());
  EXPECT_TRUE(transform().answered());
  lose();
  EXPECT_TRUE(failures.empty()) << "an answered request is no failure";
}

TEST_F(TransformProtocolTest, TheSameAnswerWhenTheRequestArrivesByteByByte) {
  connect();
  for (char c : netstring("reverse.stressed"))
    protocol->dataReceived(std::string_view(&c, 1));
  EXPECT_EQ(transport.value(), netstring("desserts"));
}

TEST_F(TransformProtocolTest, AnEmptyPoemGetsAnEmptyAnswer) {
  connect();
  protocol->dataReceived(netstring("uppercase."));
  EXPECT_EQ(transport.value(), "0:,");
}

TEST_F(TransformProtocolTest, OnlyTheFirstRequestIsAnswered) {
  connect();
  protocol->dataReceived(netstring("uppercase.one") + netstring("uppercase.two"));
  EXPECT_EQ(transport.value(), netstring("ONE"));
  protocol->dataReceived(netstring("uppercase.three"));
  EXPECT_EQ(transport.value(), netstring("ONE"));
}

// Each request the server cannot answer: nothing written, the close carries why, and the
// factory hears it once the connection is gone.
template <class E>
void expectClosedUnanswered(TransformProtocolTest& t, std::string_view bytes) {
  t.connect();
  t.protocol->dataReceived(bytes);
  EXPECT_EQ(t.transport.value(), "") << bytes;
  EXPECT_TRUE(t.transport.disconnecting()) << bytes;
  ASSERT_TRUE(t.transport.closeReason().has_value()) << bytes;
  EXPECT_TRUE(t.transport.closeReason()->check<E>()) << t.transport.closeReason()->toString();
  EXPECT_TRUE(t.failures.empty()) << "reported only when the connection is gone";
  t.lose();
  ASSERT_EQ(t.failures.size(), 1u);
  EXPECT_TRUE(t.failures[0].check<E>()) << t.failures[0].toString();
}

TEST_F(TransformProtocolTest, AnUnknownTransformGetsOnlyTheClose) {
  expectClosedUnanswered<poetry::UnknownTransformError>(*this, netstring("sonnetify.poem"));
}

TEST_F(TransformProtocolTest, ARequestWithoutADotGetsOnlyTheClose) {
  expectClosedUnanswered<poetry::BadRequestError>(*this, netstring("cummingsify"));
}

TEST_F(TransformProtocolTest, AFailingTransformGetsOnlyTheCloseWithItsException) {
  expectClosedUnanswered<poetry::TransformFailed>(*this, netstring("explode.poem"));
  EXPECT_EQ(failures[0].getErrorMessage(), "the explode transform always fails");
}

TEST_F(TransformProtocolTest, AMalformedNetstringGetsOnlyTheClose) {
  expectClosedUnanswered<spindle::NetstringParseError>(*this, "cummingsify.poem");
}

TEST_F(TransformProtocolTest, AMissingCommaGetsOnlyTheClose) {
  expectClosedUnanswered<spindle::NetstringParseError>(*this, "6:reverse;");
}

TEST_F(TransformProtocolTest, AClientThatLeavesBeforeItsRequestIsReported) {
  connect();
  protocol->dataReceived("20:cummingsify.");
  protocol->connectionLost(spindle::Failure(spindle::ConnectionDone()));
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_TRUE(failures[0].check<spindle::ConnectionDone>());
}

class TransformProtocolLimits : public TransformProtocolTest {
 protected:
  TransformProtocolLimits() : TransformProtocolTest({.maxLength = 16, .idleTimeout = 1.0}) {}
};

TEST_F(TransformProtocolLimits, ARequestAtTheLimitIsAnswered) {
  connect();
  protocol->dataReceived(netstring("reverse.12345678"));  // 16 bytes
  EXPECT_EQ(transport.value(), netstring("87654321"));
}

TEST_F(TransformProtocolLimits, ALongerRequestIsRefusedAsSoonAsItsLengthShows) {
  connect();
  protocol->dataReceived("17");  // no colon yet, and no payload
  ASSERT_TRUE(transport.disconnecting());
  EXPECT_TRUE(transport.closeReason()->check<spindle::NetstringParseError>());
  EXPECT_NE(transport.closeReason()->getErrorMessage().find("MAX_LENGTH (16 bytes)"),
            std::string::npos)
      << transport.closeReason()->getErrorMessage();
  EXPECT_EQ(transport.value(), "");
}

TEST_F(TransformProtocolLimits, AClientThatSendsNothingIsDroppedCleanly) {
  connect();
  EXPECT_TRUE(transform().watchingIdle());
  clock.pump({0.25, 0.25, 0.25});
  EXPECT_FALSE(transport.disconnecting());
  clock.advance(0.25);
  ASSERT_TRUE(transport.disconnecting());
  EXPECT_FALSE(transport.aborted()) << "nothing buffered: a clean close";
  EXPECT_TRUE(transport.closeReason()->check<spindle::IdleTimeoutError>());
  lose();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_TRUE(failures[0].check<spindle::IdleTimeoutError>());
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST_F(TransformProtocolLimits, ARequestTricklingInIsNotIdle) {
  connect();
  std::string request = netstring("uppercase.slowly");
  for (char c : request) {
    clock.advance(0.5);  // half the timeout between two bytes
    protocol->dataReceived(std::string_view(&c, 1));
  }
  EXPECT_EQ(transport.value(), netstring("SLOWLY"));
  EXPECT_TRUE(failures.empty());
}

TEST_F(TransformProtocolLimits, AnAnswerNobodyReadsIsDroppedByAnAbort) {
  connect();
  protocol->dataReceived(netstring("reverse.abc"));
  transport.buffered = transport.value().size();  // the kernel took none of it
  clock.pump({0.25, 0.25, 0.25, 0.25, 0.25});
  EXPECT_TRUE(transport.aborted()) << "a clean close would wait for the answer to drain";
  lose();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_TRUE(failures[0].check<spindle::IdleTimeoutError>()) << failures[0].toString();
}

TEST_F(TransformProtocolLimits, AnAnswerTakenSlowlyIsNotIdle) {
  connect();
  protocol->dataReceived(netstring("reverse.abcdefgh"));
  transport.buffered = transport.value().size();
  while (transport.buffered > 0) {
    clock.advance(0.5);
    transport.buffered -= 1;  // a byte per half timeout
  }
  EXPECT_FALSE(transport.aborted());
  lose();
  EXPECT_TRUE(failures.empty()) << failures[0].toString();
}

}  // namespace
