// ConnectionLog on a fake clock: lines to a file or pipe are gathered and flushed once per burst.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <spindle/testing.hpp>

#include "server_cli.hpp"

namespace {

using poetry::cli::ConnectionLog;

// A stream whose bytes are visible only once flushed, like a pipe's reader sees them.
class MemoryStream {
 public:
  MemoryStream() : file_(::open_memstream(&data_, &size_)) {}
  ~MemoryStream() {
    std::fclose(file_);
    std::free(data_);
  }
  MemoryStream(const MemoryStream&) = delete;
  MemoryStream& operator=(const MemoryStream&) = delete;
  std::FILE* file() const { return file_; }
  std::string seen() const { return data_ ? std::string(data_, size_) : std::string(); }

 private:
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::FILE* file_;
};

TEST(ConnectionLog, LinesOfABurstAppearTogetherWithinTheDelay) {
  spindle::testing::Clock clock;
  MemoryStream out;
  ConnectionLog log(clock, out.file(), 0.1);
  log.line("Connection from {}", "127.0.0.1:1");
  log.line("Connection from {}", "127.0.0.1:2");
  EXPECT_EQ(out.seen(), "") << "nothing is written per line";
  EXPECT_EQ(clock.getDelayedCalls().size(), 1u) << "one flush for the whole burst";
  clock.advance(0.05);
  EXPECT_EQ(out.seen(), "");
  clock.advance(0.05);
  EXPECT_EQ(out.seen(), "Connection from 127.0.0.1:1\nConnection from 127.0.0.1:2\n");
  EXPECT_FALSE(log.pending());

  log.line("Connection from {}", "[::1]:3");
  EXPECT_TRUE(log.pending()) << "a later line arms the next flush";
  clock.advance(0.1);
  EXPECT_EQ(out.seen(),
            "Connection from 127.0.0.1:1\nConnection from 127.0.0.1:2\nConnection from [::1]:3\n");
}

TEST(ConnectionLog, FlushAndDestructionWriteWhatIsGathered) {
  spindle::testing::Clock clock;
  MemoryStream out;
  {
    ConnectionLog log(clock, out.file(), 0.1);
    log.line("one");
    log.flush();
    EXPECT_EQ(out.seen(), "one\n");
    EXPECT_TRUE(clock.getDelayedCalls().empty()) << "flush() cancels the pending flush";
    log.line("two");
  }
  EXPECT_EQ(out.seen(), "one\ntwo\n") << "nothing is lost when the log goes away";
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(ConnectionLog, ADelayOfZeroWritesEachLineAtOnce) {
  spindle::testing::Clock clock;
  MemoryStream out;
  ConnectionLog log(clock, out.file(), 0);
  log.line("at once");
  EXPECT_EQ(out.seen(), "at once\n");
  EXPECT_TRUE(clock.getDelayedCalls().empty());
}

}  // namespace
