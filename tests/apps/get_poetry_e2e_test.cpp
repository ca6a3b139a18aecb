// get-poetry as a child process against real poetry-server children on loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "poetry_processes.hpp"

namespace {

using namespace poetry_test;

std::string port(const Server& s) {
  return std::to_string(s.port);
}

// Sums N over the "Task T: got N bytes of poetry" lines of task `task`.
std::size_t chunkBytes(const std::string& out, int task, std::size_t* lines = nullptr) {
  std::regex re("^Task " + std::to_string(task) + ": got ([0-9]+) bytes of poetry from ");
  std::size_t total = 0, n = 0;
  for (const auto& line : linesWith(out, "bytes of poetry from")) {
    std::smatch m;
    if (std::regex_search(line, m, re)) total += std::stoul(m[1]), ++n;
  }
  if (lines) *lines = n;
  return total;
}

std::string charactersLine(int task, std::size_t n) {
  return "Task " + std::to_string(task) + ": " + std::to_string(n) + " characters of poetry\n";
}

bool contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

TEST(GetPoetryE2E, SlowModeReportsEveryChunk) {
  auto poem = readFile(poemPath("loom.txt"));
  auto server = startServer({"--delay", "0.01", "--num-bytes", "10", poemPath("loom.txt")});
  ASSERT_GT(server.port, 0);
  auto client = runClient({port(server)});
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  const auto& out = client->out();
  std::size_t lines = 0;
  EXPECT_EQ(chunkBytes(out, 1, &lines), poem.size()) << out;
  EXPECT_GE(lines, 5u) << "a slow server sends many chunks:\n" << out;
  EXPECT_TRUE(contains(out, "Task 1: got 10 bytes of poetry from 127.0.0.1:" + port(server) + "\n"))
      << out;
  EXPECT_TRUE(contains(out, charactersLine(1, poem.size()))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("\nGot 1 poems in 0:00:0[0-9]\\.[0-9]{6}\n$")))
      << out;
  EXPECT_EQ(client->err(), "");
}

TEST(GetPoetryE2E, FastModeSendsThePoemAtOnce) {
  auto poem = readFile(poemPath("spindle.txt"));
  auto server = startServer({"--delay", "0", poemPath("spindle.txt")});
  ASSERT_GT(server.port, 0);
  auto client = runClient({port(server)});
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  EXPECT_EQ(chunkBytes(client->out(), 1), poem.size()) << client->out();
  EXPECT_TRUE(contains(client->out(), charactersLine(1, poem.size()))) << client->out();
  EXPECT_TRUE(contains(client->out(), "Got 1 poems in ")) << client->out();
}

TEST(GetPoetryE2E, TasksAreNumberedInCommandLineOrder) {
  std::vector<std::string> names = {"spindle.txt", "loom.txt", "ecluse.txt"};
  std::vector<Server> servers;
  std::vector<std::string> args;
  for (auto& n : names) {
    servers.push_back(startServer({"--delay", "0.005", "--num-bytes", "50", poemPath(n)}));
    ASSERT_GT(servers.back().port, 0);
    args.push_back(port(servers.back()));
  }
  auto client = runClient(args);
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  for (int task = 1; task <= 3; ++task) {
    auto poem = readFile(poemPath(names[task - 1]));
    EXPECT_EQ(chunkBytes(client->out(), task), poem.size()) << client->out();
    EXPECT_TRUE(contains(client->out(), charactersLine(task, utf8Length(poem)))) << client->out();
  }
  EXPECT_TRUE(contains(client->out(), "Got 3 poems in ")) << client->out();
}

TEST(GetPoetryE2E, HundredClientsAtOnceEachGetTheWholePoem) {
  auto poem = readFile(poemPath("spindle.txt"));
  auto server = startServer({"--delay", "0.01", "--num-bytes", "64", poemPath("spindle.txt")});
  ASSERT_GT(server.port, 0);
  std::vector<std::string> args(100, port(server));
  auto client = runClient(args);
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  for (int task = 1; task <= 100; ++task) {
    EXPECT_EQ(chunkBytes(client->out(), task), poem.size()) << "task " << task;
    EXPECT_TRUE(contains(client->out(), charactersLine(task, poem.size()))) << "task " << task;
  }
  EXPECT_TRUE(contains(client->out(), "Got 100 poems in ")) << client->out();
  EXPECT_TRUE(server.child->waitUntil(
      [&] { return linesWith(server.child->out(), "Connection from 127.0.0.1:").size() == 100; },
      5000ms));
}

class TempPoem {
 public:
  explicit TempPoem(const std::string& text)
      : path_(::testing::TempDir() + "/poem-" + std::to_string(::getpid()) + ".txt") {
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~TempPoem() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string bigPoem(std::size_t size) {
  std::string text;
  for (int line = 1; text.size() < size; ++line) {
    text += "Ligne " + std::to_string(line) + " : le fil s'enroule, d\xc3\xa9j\xc3\xa0, encore.\n";
  }
  text.resize(size - 1);
  while ((static_cast<unsigned char>(text.back()) & 0x80) != 0)
    text.back() = '.';  // no cut é
  text += '\n';
  return text;
}

TEST(GetPoetryE2E, FourMebibytePoemArrivesComplete) {
  const std::string poem = bigPoem(4u << 20);
  TempPoem file(poem);
  auto server = startServer({"--delay", "0", file.path()});
  ASSERT_GT(server.port, 0);
  auto counted = runClient({port(server)});
  EXPECT_EQ(counted->wait(0ms), 0) << counted->err();
  EXPECT_EQ(chunkBytes(counted->out(), 1), poem.size());
  EXPECT_TRUE(contains(counted->out(), charactersLine(1, utf8Length(poem))));
  auto simple = runClient({"--simple", port(server)});
  EXPECT_EQ(simple->wait(0ms), 0) << simple->err();
  EXPECT_TRUE(simple->out() == poem + "\n") << "got " << simple->out().size() << " bytes";
}

TEST(GetPoetryE2E, SimplePrintsOnlyThePoems) {
  auto poem = readFile(poemPath("ecluse.txt"));
  auto server = startServer({"--delay", "0.005", "--num-bytes", "100", poemPath("ecluse.txt")});
  ASSERT_GT(server.port, 0);
  auto client = runClient({"--simple", port(server)});
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  EXPECT_EQ(client->out(), poem + "\n");  // each poem is followed by a blank line
  EXPECT_EQ(client->err(), "");
  auto two = runClient({"--simple", port(server), port(server)});
  EXPECT_EQ(two->wait(0ms), 0) << two->err();
  EXPECT_EQ(two->out(), poem + "\n" + poem + "\n");
}

TEST(GetPoetryE2E, SimpleSendsFailuresToStderr) {
  int closed = closedPort();
  auto client = runClient({"--simple", std::to_string(closed)});
  EXPECT_EQ(client->wait(0ms), 1);
  EXPECT_EQ(client->out(), "");
  EXPECT_TRUE(contains(client->err(), "Failed to connect to: 127.0.0.1:" + std::to_string(closed)))
      << client->err();
}

TEST(GetPoetryE2E, AccentedPoemHasFewerCharactersThanBytes) {
  auto poem = readFile(poemPath("ecluse.txt"));
  ASSERT_LT(utf8Length(poem), poem.size());
  auto server = startServer({"--delay", "0", poemPath("ecluse.txt")});
  ASSERT_GT(server.port, 0);
  auto client = runClient({port(server)});
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  EXPECT_EQ(chunkBytes(client->out(), 1), poem.size());
  EXPECT_TRUE(contains(client->out(), charactersLine(1, utf8Length(poem)))) << client->out();
}

TEST(GetPoetryE2E, TimeoutDropsASlowPoem) {
  auto server = startServer({"--delay", "30", poemPath("loom.txt")});
  ASSERT_GT(server.port, 0);
  auto start = std::chrono::steady_clock::now();
  auto client = runClient({"--timeout", "0.3", port(server)});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(client->wait(0ms), 1) << client->out() << client->err();
  EXPECT_TRUE(contains(client->err(), "Task 1: timed out after 0.3 seconds\n")) << client->err();
  EXPECT_TRUE(contains(client->out(), "Task 1: got 10 bytes of poetry")) << client->out();
  EXPECT_FALSE(contains(client->out(), "characters of poetry")) << client->out();
  EXPECT_TRUE(contains(client->out(), "Got 0 poems in ")) << client->out();
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 5s);
  // The server is still fine after the client dropped the connection.
  auto again = runClient({"--timeout", "0.2", port(server)});
  EXPECT_EQ(again->wait(0ms), 1);
  EXPECT_FALSE(server.child->exited()) << server.child->err();
}

TEST(GetPoetryE2E, TimeoutDoesNotHurtAPoemThatArrivesInTime) {
  auto poem = readFile(poemPath("loom.txt"));
  auto server = startServer({"--delay", "0", poemPath("loom.txt")});
  ASSERT_GT(server.port, 0);
  auto client = runClient({"--timeout", "5", port(server), port(server)});
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  EXPECT_TRUE(contains(client->out(), "Got 2 poems in 0:00:0")) << client->out();
  EXPECT_EQ(client->err(), "");
}

TEST(GetPoetryE2E, FailedConnectionNamesTheReason) {
  int closed = closedPort();
  ASSERT_GT(closed, 0);
  auto client = runClient({std::to_string(closed)});
  EXPECT_EQ(client->wait(0ms), 1);
  auto lines =
      linesWith(client->err(), "Failed to connect to: 127.0.0.1:" + std::to_string(closed) + " (");
  ASSERT_EQ(lines.size(), 1u) << client->err();
  std::string lower = lines[0];
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_TRUE(contains(lower, "refused")) << lines[0];
  EXPECT_TRUE(contains(client->out(), "Got 0 poems in ")) << client->out();
}

TEST(GetPoetryE2E, OneFailureAmongPoemsExitsOne) {
  auto server = startServer({"--delay", "0", poemPath("loom.txt")});
  ASSERT_GT(server.port, 0);
  int closed = closedPort();
  auto client = runClient({port(server), std::to_string(closed)});
  EXPECT_EQ(client->wait(0ms), 1);
  EXPECT_TRUE(contains(client->out(), "Task 1: ")) << client->out();
  EXPECT_TRUE(contains(client->err(), "Failed to connect to: 127.0.0.1:" + std::to_string(closed)))
      << client->err();
  EXPECT_TRUE(contains(client->out(), "Got 1 poems in ")) << client->out();
}

// A server that resets the connection: what arrived is not a poem.
TEST(GetPoetryE2E, ResetConnectionIsAFailureNotAPoem) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  Child client({GET_POETRY_BIN, std::to_string(ntohs(addr.sin_port))});
  pollfd pfd{listener, POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1) << "get-poetry did not connect";
  int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ::close(listener);
  ASSERT_GE(conn, 0);
  ASSERT_EQ(::write(conn, "half a po", 9), 9);
  // Reset only once the client has the connection (and the bytes): a reset during the
  // handshake would be a failure to connect instead.
  bool got = client.waitForStdout("Task 1: got 9 bytes", 5000ms);
  if (!got) ::close(conn);
  ASSERT_TRUE(got) << client.out() << client.err();
  linger hard{1, 0};
  ::setsockopt(conn, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  ::close(conn);  // sends RST
  EXPECT_EQ(client.wait(5000ms), 1) << client.out() << client.err();
  EXPECT_TRUE(contains(client.err(), "Task 1: connection lost (")) << client.err();
  EXPECT_FALSE(contains(client.out(), "characters of poetry")) << client.out();
  EXPECT_TRUE(contains(client.out(), "Got 0 poems in ")) << client.out();
}

TEST(GetPoetryE2E, HostNamesResolveThroughTheReactor) {
  auto server = startServer({"--delay", "0", poemPath("loom.txt")});
  ASSERT_GT(server.port, 0);
  auto client = runClient({"localhost:" + port(server)});
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  EXPECT_TRUE(contains(client->out(), "Got 1 poems in ")) << client->out();
}

TEST(GetPoetryE2E, IPv6Loopback) {
  if (!ipv6LoopbackAvailable()) GTEST_SKIP() << "::1 is not available here";
  auto poem = readFile(poemPath("ecluse.txt"));
  auto server = startServer({"--iface", "::1", "--delay", "0", poemPath("ecluse.txt")});
  ASSERT_GT(server.port, 0);
  auto client = runClient({"[::1]:" + port(server)});
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  EXPECT_TRUE(contains(client->out(), "bytes of poetry from [::1]:" + port(server) + "\n"))
      << client->out();
  EXPECT_TRUE(contains(client->out(), charactersLine(1, utf8Length(poem)))) << client->out();
}

TEST(GetPoetryE2E, UsageErrorsExitTwo) {
  std::vector<std::vector<std::string>> cases = {
      {},       // no address
      {"abc"},  // port not a number
      {"0"},    // out of range
      {"65536"},
      {"127.0.0.1:"},  // empty port
      {"localhost:http"},
      {"::1:10000"},  // IPv6 without brackets
      {"[::1]"},
      {"--timeout", "x", "10000"},
      {"--timeout", "0", "10000"},
      {"--timeout", "-1", "10000"},
      {"--stack=sideways", "10000"},
      {"--frobnicate", "10000"},
  };
  for (const auto& args : cases) {
    auto client = runClient(args);
    std::string shown;
    for (auto& a : args)
      shown += a + " ";
    EXPECT_EQ(client->wait(0ms), 2) << shown << "\n" << client->out() << client->err();
    EXPECT_TRUE(contains(client->err(), "Usage:")) << shown << "\n" << client->err();
    EXPECT_EQ(client->out(), "") << shown;
  }
}

TEST(GetPoetryE2E, HelpExitsZero) {
  auto client = runClient({"--help"});
  EXPECT_EQ(client->wait(0ms), 0);
  EXPECT_TRUE(contains(client->out(), "Usage:")) << client->out();
  EXPECT_TRUE(contains(client->out(), "H:MM:SS.ffffff")) << client->out();
}

// The chain printed by --stack, one function per line, outermost first.
std::vector<std::string> chain(const std::string& out) {
  std::vector<std::string> frames;
  for (const auto& line : linesWith(out, "  "))
    frames.push_back(line);
  return frames;
}

// Index of the first frame containing `name`, or -1.
int indexOf(const std::vector<std::string>& frames, std::string_view name) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (contains(frames[i], name)) return static_cast<int>(i);
  }
  return -1;
}

TEST(GetPoetryE2E, StackShowsTheLayersDownToDataReceived) {
  auto server = startServer({"--delay", "0", poemPath("loom.txt")});
  ASSERT_GT(server.port, 0);
  auto client = runClient({"--stack", port(server)});
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  auto frames = chain(client->out());
  ASSERT_GE(frames.size(), 4u) << client->out();
  // Outermost the reactor's loop, then the readiness dispatch, the transport's read, and last
  // the protocol's callback; nothing above the loop (main) and nothing below the handler.
  EXPECT_TRUE(contains(frames.front(), "spindle::Reactor::run")) << client->out();
  int dispatch = indexOf(frames, "dispatch"), read = indexOf(frames, "doRead");
  EXPECT_GT(dispatch, 0) << client->out();
  EXPECT_GT(read, dispatch) << client->out();
  EXPECT_TRUE(contains(frames.back(), "PoetryProtocol::dataReceived")) << client->out();
  EXPECT_EQ(indexOf(frames, "main"), -1) << client->out();
  EXPECT_FALSE(contains(client->out(), "characters of poetry"));
}

TEST(GetPoetryE2E, StackLostShowsTheLayersDownToConnectionLost) {
  auto server = startServer({"--delay", "0", poemPath("loom.txt")});
  ASSERT_GT(server.port, 0);
  auto client = runClient({"--stack=lost", port(server)});
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  auto frames = chain(client->out());
  ASSERT_GE(frames.size(), 2u) << client->out();
  EXPECT_TRUE(contains(frames.front(), "spindle::Reactor::run")) << client->out();
  EXPECT_TRUE(contains(frames.back(), "PoetryProtocol::connectionLost")) << client->out();
  // It waited for the end: the chunks before it were reported.
  EXPECT_TRUE(contains(client->out(), "Task 1: got ")) << client->out();
}

}  // namespace
