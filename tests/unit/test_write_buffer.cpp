// SharedBytes, and the connection's WriteBuffer (internal): segments of copied and shared bytes
// in order, gathered for one sendmsg, consumed across segment edges.
#include <sys/uio.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "spindle/bytes.hpp"
#include "write_buffer.hpp"

namespace spindle {
namespace {

using detail::WriteBuffer;

std::string gathered(const WriteBuffer& b, std::size_t max = WriteBuffer::kMaxIov) {
  iovec iov[WriteBuffer::kMaxIov];
  std::size_t n = b.gather(iov, max);
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  return out;
}

TEST(SharedBytes, CopiesShareTheBytesAndSubstrSharesTheOwner) {
  auto owner = std::make_shared<const std::string>("0123456789");
  SharedBytes all(owner);
  SharedBytes tail = all.substr(4);
  SharedBytes mid = all.substr(2, 3);
  EXPECT_EQ(tail.view(), "456789");
  EXPECT_EQ(mid.view(), "234");
  EXPECT_EQ(tail.data(), owner->data() + 4) << "no byte is copied";
  EXPECT_EQ(owner.use_count(), 4);
  EXPECT_TRUE(all.substr(99).empty()) << "a position past the end gives empty bytes";
  SharedBytes moved(std::string(5000, 'x'));
  EXPECT_EQ(moved.size(), 5000u);
  EXPECT_TRUE(SharedBytes().empty());
}

TEST(WriteBuffer, CopiedWritesGatherInOneSegment) {
  WriteBuffer b;
  b.append(std::string_view("abc"));
  b.append(std::string_view("def"));
  EXPECT_TRUE(b.contiguous());
  EXPECT_EQ(b.view(), "abcdef");
  b.consume(2);
  EXPECT_EQ(b.view(), "cdef");
  EXPECT_EQ(b.size(), 4u);
}

TEST(WriteBuffer, SharedBytesAreReferencedAndKeepTheirPlace) {
  auto big = std::make_shared<const std::string>(std::string(4096, 'S'));
  WriteBuffer b;
  b.append(std::string_view("head"));
  b.append(SharedBytes(big));
  b.append(std::string_view("tail"));
  EXPECT_FALSE(b.contiguous());
  EXPECT_EQ(b.size(), 4u + 4096u + 4u);
  EXPECT_EQ(big.use_count(), 2) << "held by reference";
  EXPECT_EQ(gathered(b), "head" + *big + "tail");
  iovec iov[WriteBuffer::kMaxIov];
  ASSERT_EQ(b.gather(iov, 3), 3u);
  EXPECT_EQ(iov[1].iov_base, big->data()) << "the iovec points into the shared bytes";

  b.consume(4 + 100);  // across the first edge, into the shared segment
  EXPECT_EQ(b.view().size(), 4096u - 100u);
  EXPECT_EQ(gathered(b), big->substr(100) + "tail");
  b.consume(4096 - 100 + 1);  // the shared segment leaves, the tail is started
  EXPECT_EQ(b.view(), "ail");
  EXPECT_TRUE(b.contiguous());
  EXPECT_EQ(big.use_count(), 1) << "a sent segment lets its bytes go";
  b.consume(3);
  EXPECT_TRUE(b.empty());
}

TEST(WriteBuffer, SmallSharedBytesAreCopied) {
  auto small = std::make_shared<const std::string>(WriteBuffer::kShareAtLeast - 1, 's');
  WriteBuffer b;
  b.append(std::string_view("a"));
  b.append(SharedBytes(small));
  EXPECT_TRUE(b.contiguous()) << "appended to the copied segment";
  EXPECT_EQ(small.use_count(), 1);
  EXPECT_EQ(b.view(), "a" + *small);
}

TEST(WriteBuffer, GatherStopsAtItsLimitAndConsumeReachesEverySegment) {
  std::vector<std::shared_ptr<const std::string>> pieces;
  WriteBuffer b;
  std::string expected;
  for (int i = 0; i < 100; ++i) {
    pieces.push_back(
        std::make_shared<const std::string>(WriteBuffer::kShareAtLeast, char('A' + i % 26)));
    b.append(SharedBytes(pieces.back()));
    b.append(std::string_view("|"));
    expected += *pieces.back() + "|";
  }
  iovec iov[WriteBuffer::kMaxIov];
  EXPECT_EQ(b.gather(iov, WriteBuffer::kMaxIov), WriteBuffer::kMaxIov);
  std::string out;
  while (!b.empty()) {
    std::size_t n = b.gather(iov, 7);
    std::size_t take = 0;
    for (std::size_t i = 0; i < n; ++i) {
      out.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
      take += iov[i].iov_len;
    }
    b.consume(take);
    std::string more(b.view().substr(0, 10));  // and a partial send
    b.consume(more.size());
    out += more;
  }
  EXPECT_EQ(out, expected);
  for (auto& p : pieces)
    EXPECT_EQ(p.use_count(), 1);
}

TEST(WriteBuffer, AnEmptiedBufferGivesBackLargeStorage) {
  WriteBuffer b;
  b.append(std::string(WriteBuffer::kKeepCapacity * 2, 'x'));
  b.consume(b.size());
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(gathered(b), "");
  b.append(std::string_view("again"));
  EXPECT_EQ(b.view(), "again");
}

}  // namespace
}  // namespace spindle
