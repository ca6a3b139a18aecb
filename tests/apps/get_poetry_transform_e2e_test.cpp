// get-poetry --transform as a child process, with poetry-server and transform-server children:
// the transformed poem, and the untransformed one when the transform service fails.
#include <algorithm>
#include <cctype>

#include <gtest/gtest.h>

#include "poetry_processes.hpp"

namespace {

using namespace poetry_test;

std::string port(const Server& s) {
  return std::to_string(s.port);
}

bool contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

class GetPoetryTransformE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    poem = readFile(poemPath("loom.txt"));
    poet = startServer({"--delay", "0", poemPath("loom.txt")});
    ASSERT_GT(poet.port, 0);
  }
  void TearDown() override {
    expectCleanStop(poet);
    expectCleanStop(transforms);
  }
  // get-poetry --simple --transform NAME --transform-server TRANSFORMS POET.
  std::unique_ptr<Child> fetch(const std::string& name, const std::string& transformServer) {
    return runClient(
        {"--simple", "--transform", name, "--transform-server", transformServer, port(poet)});
  }

  std::string poem;
  Server poet, transforms;
};

TEST_F(GetPoetryTransformE2E, CummingsifyLowerCasesThePoem) {
  transforms = startTransformServer();
  ASSERT_GT(transforms.port, 0);
  auto client = fetch("cummingsify", port(transforms));
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  std::string lower = poem;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  ASSERT_NE(lower, poem);
  EXPECT_EQ(client->out(), lower + "\n");
  EXPECT_EQ(client->err(), "");
}

TEST_F(GetPoetryTransformE2E, EachPoemOfSeveralIsTransformed) {
  transforms = startTransformServer();
  ASSERT_GT(transforms.port, 0);
  auto client = runClient({"--transform", "reverse", "--transform-server",
                           "127.0.0.1:" + port(transforms), port(poet), port(poet)});
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  EXPECT_TRUE(contains(client->out(),
                       "Task 1: " + std::to_string(utf8Length(poem)) + " characters of poetry\n"))
      << client->out();
  EXPECT_TRUE(contains(client->out(), "Task 2: ")) << client->out();
  EXPECT_TRUE(contains(client->out(), "Got 2 poems in ")) << client->out();
  EXPECT_EQ(client->err(), "");
}

TEST_F(GetPoetryTransformE2E, AFailingTransformFallsBackToThePoem) {
  transforms = startTransformServer();
  ASSERT_GT(transforms.port, 0);
  auto client = fetch("explode", port(transforms));
  EXPECT_EQ(client->wait(0ms), 0) << "a fallback is still a poem: " << client->err();
  EXPECT_EQ(client->out(), poem + "\n");
  EXPECT_TRUE(contains(client->err(), "Task 1: transform explode failed (")) << client->err();
  EXPECT_TRUE(contains(client->err(), "without an answer")) << client->err();
  EXPECT_TRUE(contains(client->err(), "; using the untransformed poem\n")) << client->err();
  // The server logged why it did not answer.
  EXPECT_TRUE(transforms.child->waitForStderr("TransformFailed")) << transforms.child->err();
}

TEST_F(GetPoetryTransformE2E, ADeadTransformServerFallsBackToThePoem) {
  auto client = fetch("cummingsify", std::to_string(closedPort()));
  EXPECT_EQ(client->wait(0ms), 0) << client->err();
  EXPECT_EQ(client->out(), poem + "\n");
  auto lines = linesWith(client->err(), "Task 1: transform cummingsify failed (");
  ASSERT_EQ(lines.size(), 1u) << client->err();
  EXPECT_TRUE(contains(lines[0], "refused")) << lines[0];
}

TEST_F(GetPoetryTransformE2E, AFailedPoemIsNotSentToTheTransform) {
  transforms = startTransformServer();
  ASSERT_GT(transforms.port, 0);
  auto client = runClient({"--transform", "cummingsify", "--transform-server", port(transforms),
                           std::to_string(closedPort())});
  EXPECT_EQ(client->wait(0ms), 1);
  EXPECT_TRUE(contains(client->err(), "Failed to connect to: ")) << client->err();
  EXPECT_FALSE(contains(client->err(), "transform")) << client->err();
  EXPECT_TRUE(contains(client->out(), "Got 0 poems in ")) << client->out();
}

TEST_F(GetPoetryTransformE2E, BadTransformOptionsAreUsageErrors) {
  std::vector<std::vector<std::string>> cases = {
      {"--transform", "cummingsify", port(poet)},   // no server
      {"--transform-server", "10001", port(poet)},  // no transform
      {"--transform", "cummings.ify", "--transform-server", "10001", port(poet)},
      {"--transform", "", "--transform-server", "10001", port(poet)},
      {"--transform", "cummingsify", "--transform-server", "nowhere:", port(poet)},
      {"--transform", "cummingsify", "--transform-server", "10001"},  // no address
  };
  for (const auto& args : cases) {
    auto client = runClient(args);
    EXPECT_EQ(client->wait(0ms), 2) << args[1] << "\n" << client->err();
    EXPECT_TRUE(contains(client->err(), "Usage:")) << client->err();
    EXPECT_EQ(client->out(), "");
  }
}

}  // namespace
