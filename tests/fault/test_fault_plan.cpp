// The fault plan itself: each kind of rule fires exactly when it says, on the wrappers the
// library calls (src/sys.hpp), tried here on a local socket pair.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fault_injection.hpp"
#include "sys.hpp"

namespace spindle::detail {
namespace {

using fault::Call;
using fault::on;

/// A connected pair of local stream sockets, closed at the end of the test.
struct Pair {
  int a = -1, b = -1;
  Pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) == 0) {
      a = fds[0];
      b = fds[1];
    }
  }
  ~Pair() {
    ::close(a);
    ::close(b);
  }
  std::string drain() {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(b, buf, sizeof buf, 0)) > 0)
      out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
};

TEST(FaultPlan, EveryThirdSendIsShortByHalf) {
  Pair p;
  fault::Scope plan({on(Call::Send).every(3).shorten(0.5)});
  const std::string data(100, 'x');
  std::vector<ssize_t> sent;
  for (int i = 0; i < 6; ++i)
    sent.push_back(sys::send(p.a, data.data(), data.size(), 0));
  EXPECT_EQ(sent, (std::vector<ssize_t>{100, 100, 50, 100, 100, 50}));
  EXPECT_EQ(fault::calls(Call::Send), 6u);
  EXPECT_EQ(fault::injected(Call::Send), 2u);
  EXPECT_EQ(p.drain().size(), 500u) << "a short send moves exactly the bytes it reports";
}

TEST(FaultPlan, TheFifthRecvFailsWithEintrAndMovesNothing) {
  Pair p;
  ASSERT_EQ(::send(p.a, "abcdefgh", 8, 0), 8);
  fault::Scope plan({on(Call::Recv).nth(5).fail(EINTR)});
  std::string got;
  std::vector<int> errors;
  for (int i = 0; i < 8; ++i) {
    char c;
    ssize_t n = sys::recv(p.b, &c, 1, 0);
    if (n == 1) got += c;
    errors.push_back(n < 0 ? errno : 0);
  }
  EXPECT_EQ(got, "abcdefg");
  EXPECT_EQ(errors, (std::vector<int>{0, 0, 0, 0, EINTR, 0, 0, 0}));
}

TEST(FaultPlan, SendmsgShortenedCutsAcrossPiecesInOrder) {
  Pair p;
  fault::Scope plan({on(Call::Sendmsg).shorten(0.5)});
  std::string pieces[3] = {"0123456789", "abcdefghij", "ABCDEFGHIJ"};
  iovec iov[3];
  for (int i = 0; i < 3; ++i)
    iov[i] = {pieces[i].data(), pieces[i].size()};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 3;
  EXPECT_EQ(sys::sendmsg(p.a, &msg, 0), 15);
  EXPECT_EQ(p.drain(), "0123456789abcde");
}

TEST(FaultPlan, LimitCapsARuleAndOneByteCallsAreNeverShortened) {
  Pair p;
  fault::Scope plan({on(Call::Send).fail(EAGAIN).limit(2), on(Call::Send).shorten()});
  std::vector<ssize_t> results;
  for (int i = 0; i < 4; ++i)
    results.push_back(sys::send(p.a, "x", 1, 0));
  EXPECT_EQ(results, (std::vector<ssize_t>{-1, -1, 1, 1}));
  EXPECT_EQ(fault::injected(Call::Send), 2u) << "a one-byte send cannot be shortened";
  ssize_t n = sys::send(p.a, "0123456789", 10, 0);
  EXPECT_GE(n, 1);
  EXPECT_LE(n, 9) << "a random shortening still moves at least one byte and not all";
}

TEST(FaultPlan, RandomPlansRepeatForTheSameSeed) {
  auto run = [](std::uint64_t seed) {
    Pair p;
    fault::Scope plan({on(Call::Send).randomly(0.5).fail(EINTR)}, seed);
    std::string outcome;
    for (int i = 0; i < 200; ++i)
      outcome += sys::send(p.a, "x", 1, 0) < 0 ? 'F' : '.';
    return outcome;
  };
  const std::string first = run(7);
  EXPECT_EQ(first, run(7));
  EXPECT_NE(first, run(8));
  const auto failures = std::count(first.begin(), first.end(), 'F');
  EXPECT_GT(failures, 50);
  EXPECT_LT(failures, 150);
}

TEST(FaultPlan, WithoutAPlanCallsGoStraightThrough) {
  Pair p;
  fault::clear();
  EXPECT_EQ(sys::send(p.a, "hello", 5, 0), 5);
  EXPECT_EQ(fault::calls(Call::Send), 0u) << "no plan: not even counted";
  EXPECT_EQ(p.drain(), "hello");
}

}  // namespace
}  // namespace spindle::detail
