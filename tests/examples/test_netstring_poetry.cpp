// The netstring poetry server and client: their protocols on string transports, then both
// programs as child processes (against each other and against a misbehaving raw server).
#include <signal.h>

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spindle/testing.hpp>

#include "netstring_poetry.hpp"
#include "support.hpp"

namespace {

using namespace examples_test;
using netstring_poetry::PoemResult;
using spindle::Failure;

const std::string kHaiku = EXAMPLES_FIXTURES "/haiku.txt";  // 73 characters, no final newline
const std::string kSpindle = POETRY_DIR "/spindle.txt";
const std::string kEcluse = POETRY_DIR "/ecluse.txt";

std::string netstring(const std::string& s) {
  return std::to_string(s.size()) + ":" + s + ",";
}

// --- The protocols --------------------------------------------------------------------------

TEST(NetstringPoetryProtocol, TheServerSendsTitleThenPoemThenCloses) {
  netstring_poetry::PoetryServerFactory factory("Title", "A poem.\n");
  auto protocol = factory.buildProtocol(*spindle::Address::fromIp("192.0.2.7", 4000));
  spindle::testing::StringTransport transport;
  spindle::testing::connect(*protocol, transport);
  EXPECT_EQ(transport.value(), "5:Title,8:A poem.\n,");
  EXPECT_TRUE(transport.disconnecting());
  ASSERT_TRUE(transport.closeReason().has_value());
  EXPECT_TRUE(transport.closeReason()->check<spindle::ConnectionDone>());
}

class NetstringPoetryClient : public ::testing::Test {
 protected:
  /// Connects a client protocol, feeds it `chunks`, and ends the connection with `reason`.
  void download(const std::vector<std::string>& chunks, const Failure& reason) {
    auto protocol = factory.buildProtocol(*spindle::Address::fromIp("127.0.0.1", 7000));
    spindle::testing::StringTransport transport;
    spindle::testing::connect(*protocol, transport);
    for (const auto& chunk : chunks)
      protocol->dataReceived(chunk);
    closedWith = transport.closeReason();
    protocol->connectionLost(closedWith ? *closedWith : reason);
  }

  std::vector<PoemResult> results;
  std::optional<Failure> closedWith;  // the reason the protocol itself closed with, if it did
  netstring_poetry::PoetryClientFactory factory{
      3, {"127.0.0.1", 7000}, [this](const PoemResult& r) { results.push_back(r); }};
};

TEST_F(NetstringPoetryClient, ReceivesTheTitleAndThePoemHoweverSplit) {
  download({"8:The Lo", "om,1", "4:Warp and we", "ft\n,"}, Failure(spindle::ConnectionDone()));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].ok) << results[0].error;
  EXPECT_EQ(results[0].task, 3);
  EXPECT_EQ(results[0].address.port, 7000);
  EXPECT_EQ(results[0].title, "The Loom");
  EXPECT_EQ(results[0].poem, "Warp and weft\n");
}

TEST_F(NetstringPoetryClient, AcceptsLongPoems) {
  std::string poem(1'000'000, 'p');  // beyond NetstringReceiver's default MAX_LENGTH
  download({"4:Long,", netstring(poem)}, Failure(spindle::ConnectionDone()));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].ok) << results[0].error;
  EXPECT_EQ(results[0].poem.size(), poem.size());
}

TEST_F(NetstringPoetryClient, AServerClosingEarlyIsAFailure) {
  download({"5:Title,"}, Failure(spindle::ConnectionDone()));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].ok);
  EXPECT_EQ(results[0].error, "the server closed after the title, without the poem");
  download({}, Failure(spindle::ConnectionDone()));
  EXPECT_EQ(results.at(1).error, "the server closed without sending a poem");
}

TEST_F(NetstringPoetryClient, AConnectionLostAfterBothIsStillAFailure) {
  download({"1:T,1:P,"}, Failure(spindle::ConnectionLost()));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].ok);
  EXPECT_TRUE(results[0].error.starts_with("connection lost: ")) << results[0].error;
}

TEST_F(NetstringPoetryClient, AThirdNetstringIsAProtocolError) {
  download({"1:T,1:P,1:X,"}, Failure(spindle::ConnectionDone()));
  ASSERT_TRUE(closedWith.has_value());
  EXPECT_TRUE(closedWith->check<spindle::ProtocolError>());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].ok);
  EXPECT_NE(results[0].error.find("more than a title and a poem"), std::string::npos);
}

TEST_F(NetstringPoetryClient, AMalformedNetstringIsNamed) {
  download({"5:Title,04:poem,"}, Failure(spindle::ConnectionDone()));
  ASSERT_TRUE(closedWith.has_value());
  EXPECT_TRUE(closedWith->check<spindle::NetstringParseError>());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].ok);
  EXPECT_NE(results[0].error.find("leading zero"), std::string::npos) << results[0].error;
  EXPECT_EQ(results[0].title, "Title");
}

TEST(NetstringPoetryText, CountsCharactersNotBytes) {
  EXPECT_EQ(netstring_poetry::countCharacters(""), 0u);
  EXPECT_EQ(netstring_poetry::countCharacters("loom"), 4u);
  EXPECT_EQ(netstring_poetry::countCharacters("\xc3\xa9"
                                              "cluse"),
            6u);                                                                     // écluse
  EXPECT_EQ(netstring_poetry::countCharacters("\xe2\x80\x94\xf0\x9f\xa7\xb5"), 2u);  // —🧵
}

// --- netstring-poetry-server ----------------------------------------------------------------

TEST(NetstringPoetryServer, SendsTheFileNameAsTitleThenThePoem) {
  auto server = startServer(NETSTRING_POETRY_SERVER_BIN, {kSpindle});
  ASSERT_GT(server.port, 0);
  EXPECT_EQ(server.child->out(),
            "Serving " + kSpindle + " on port " + std::to_string(server.port) + ".\n");
  for (int i = 0; i < 2; ++i) {  // every client gets the poem
    Peer peer(server.port);
    EXPECT_TRUE(peer.readUntilEof());
    EXPECT_EQ(peer.received(), netstring("spindle") + netstring(readFile(kSpindle)));
  }
}

TEST(NetstringPoetryServer, TitleOption) {
  auto server = startServer(NETSTRING_POETRY_SERVER_BIN, {"--title", "Frog, Pond", kHaiku});
  ASSERT_GT(server.port, 0);
  Peer peer(server.port);
  EXPECT_TRUE(peer.readUntilEof());
  EXPECT_EQ(peer.received(), netstring("Frog, Pond") + netstring(readFile(kHaiku)));
}

TEST(NetstringPoetryServer, StopsCleanlyOnSigterm) {
  auto server = startServer(NETSTRING_POETRY_SERVER_BIN, {"--port", "0", kHaiku});
  ASSERT_GT(server.port, 0);
  server.child->signal(SIGTERM);
  EXPECT_EQ(server.child->wait(), 0) << server.child->err();
}

TEST(NetstringPoetryServer, BadArgumentsExitWithUsage) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {}, {"--port", "x", kHaiku}, {"--iface", "nowhere", kHaiku}, {kHaiku, kHaiku}}) {
    auto child = run(NETSTRING_POETRY_SERVER_BIN, args);
    EXPECT_EQ(child->wait(0ms), 2);
    EXPECT_NE(child->err().find("Usage:"), std::string::npos) << child->err();
  }
  for (std::string file : std::vector<std::string>{"/nonexistent/poem.txt", POETRY_DIR}) {
    auto child = run(NETSTRING_POETRY_SERVER_BIN, {file});
    EXPECT_EQ(child->wait(0ms), 2) << file;
    EXPECT_NE(child->err().find(file), std::string::npos) << child->err();
    EXPECT_EQ(child->out(), "");
  }
}

// --- netstring-get-poetry -------------------------------------------------------------------

TEST(NetstringGetPoetry, PrintsTitleCountAndPoem) {
  auto server = startServer(NETSTRING_POETRY_SERVER_BIN, {kHaiku});
  ASSERT_GT(server.port, 0);
  auto client = run(NETSTRING_GET_POETRY_BIN, {std::to_string(server.port)});
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  EXPECT_EQ(client->out(), "Task 1: \"haiku\" (73 characters)\n" + readFile(kHaiku) + "\n");
  EXPECT_EQ(client->err(), "");
}

TEST(NetstringGetPoetry, DownloadsFromSeveralServersAtOnce) {
  auto a = startServer(NETSTRING_POETRY_SERVER_BIN, {kSpindle});
  auto b = startServer(NETSTRING_POETRY_SERVER_BIN, {"--title", "L'écluse", kEcluse});
  ASSERT_GT(a.port, 0);
  ASSERT_GT(b.port, 0);
  auto client = run(NETSTRING_GET_POETRY_BIN,
                    {std::to_string(a.port), "127.0.0.1:" + std::to_string(b.port)});
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  const std::string ecluse = readFile(kEcluse), spindle = readFile(kSpindle);
  auto expect = [](int task, const std::string& title, const std::string& poem) {
    return "Task " + std::to_string(task) + ": \"" + title + "\" (" +
           std::to_string(netstring_poetry::countCharacters(poem)) + " characters)\n" + poem;
  };
  EXPECT_NE(client->out().find(expect(1, "spindle", spindle)), std::string::npos) << client->out();
  EXPECT_NE(client->out().find(expect(2, "L'écluse", ecluse)), std::string::npos) << client->out();
  EXPECT_LT(netstring_poetry::countCharacters(ecluse), ecluse.size()) << "no multi-byte text";
}

TEST(NetstringGetPoetry, AFailedTaskMakesTheExitStatusOne) {
  auto server = startServer(NETSTRING_POETRY_SERVER_BIN, {kHaiku});
  ASSERT_GT(server.port, 0);
  const int closed = closedPort();
  auto client =
      run(NETSTRING_GET_POETRY_BIN, {std::to_string(server.port), std::to_string(closed)});
  EXPECT_EQ(client->wait(0ms), 1);
  EXPECT_NE(client->out().find("Task 1: \"haiku\""), std::string::npos) << client->out();
  EXPECT_NE(client->err().find("Task 2: failed to connect: "), std::string::npos) << client->err();
  EXPECT_NE(client->err().find("127.0.0.1:" + std::to_string(closed)), std::string::npos)
      << client->err();
}

/// Runs the client against a raw server that sends `bytes` and closes; returns the client.
std::unique_ptr<Child> againstRawServer(const std::string& bytes) {
  RawListener listener;
  auto client = std::make_unique<Child>(
      std::vector<std::string>{NETSTRING_GET_POETRY_BIN, std::to_string(listener.port())});
  auto server = listener.accept();
  EXPECT_TRUE(server);
  if (server) {
    server->send(bytes);
    server->close();
  }
  EXPECT_TRUE(client->wait().has_value());
  expectNoSanitizerReport(*client);
  return client;
}

TEST(NetstringGetPoetry, AServerThatSendsOnlyATitleIsAFailure) {
  auto client = againstRawServer("5:Title,");
  EXPECT_EQ(client->wait(0ms), 1);
  EXPECT_EQ(client->out(), "");
  EXPECT_NE(client->err().find("Task 1: the server closed after the title"), std::string::npos)
      << client->err();
}

TEST(NetstringGetPoetry, AMalformedNetstringIsAFailureThatNamesTheFault) {
  auto client = againstRawServer("5:Title,4:poem;");
  EXPECT_EQ(client->wait(0ms), 1);
  EXPECT_EQ(client->out(), "");
  EXPECT_NE(client->err().find("comma"), std::string::npos) << client->err();
}

TEST(NetstringGetPoetry, BadArgumentsExitWithUsage) {
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{}, {"port"}, {"10000", "[::1]10"}, {"--x", "1"}}) {
    auto child = run(NETSTRING_GET_POETRY_BIN, args);
    EXPECT_EQ(child->wait(0ms), 2);
    EXPECT_NE(child->err().find("Usage:"), std::string::npos) << child->err();
  }
}

}  // namespace
