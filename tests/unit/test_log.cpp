// The library log: a replaceable sink and a level threshold.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "spindle/log.hpp"

namespace spindle {
namespace {

struct Captured {
  log::Level level;
  std::string text;
};

class Log : public ::testing::Test {
 protected:
  void SetUp() override {
    previous = log::setSink([this](log::Level l, std::string_view m) {
      got.push_back({l, std::string(m)});
    });
  }
  void TearDown() override {
    log::setLevel(log::Level::Info);
    log::setSink(std::move(previous));
  }
  std::vector<Captured> got;
  log::Sink previous;
};

TEST_F(Log, SinkReceivesFormattedMessages) {
  log::err("failed on {}: {}", "127.0.0.1:80", 42);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].level, log::Level::Error);
  EXPECT_EQ(got[0].text, "failed on 127.0.0.1:80: 42");
  log::info("x={}", 1);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].level, log::Level::Info);
}

TEST_F(Log, DefaultThresholdIsInfo) {
  EXPECT_TRUE(log::enabled(log::Level::Info));
  EXPECT_TRUE(log::enabled(log::Level::Error));
  EXPECT_FALSE(log::enabled(log::Level::Debug));
  log::msg(log::Level::Debug, "hidden");
  EXPECT_TRUE(got.empty());
}

TEST_F(Log, SetLevelDropsWhatIsBelow) {
  log::setLevel(log::Level::Error);
  log::info("dropped");
  log::msg(log::Level::Warn, "dropped too");
  log::err("kept");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].text, "kept");
  log::setLevel(log::Level::Debug);
  log::msg(log::Level::Debug, "debug now");
  EXPECT_EQ(got.size(), 2u);
}

TEST_F(Log, SetSinkReturnsThePreviousSink) {
  int second = 0;
  auto mine = log::setSink([&](log::Level, std::string_view) { ++second; });
  ASSERT_TRUE(mine);
  log::err("to second");
  EXPECT_EQ(second, 1);
  EXPECT_TRUE(got.empty());
  log::setSink(std::move(mine));
  log::err("to first");
  EXPECT_EQ(got.size(), 1u);
}

}  // namespace
}  // namespace spindle
