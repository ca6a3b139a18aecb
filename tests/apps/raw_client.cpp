#include "raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace poetry_test {

using spindle::test::millisUntil;
using spindle::test::throwErrno;
using SteadyClock = std::chrono::steady_clock;

RawClient::RawClient(int port, std::optional<int> receiveBuffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throwErrno("socket");
  if (receiveBuffer &&
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &*receiveBuffer, sizeof *receiveBuffer) != 0) {
    ::close(fd_);
    throwErrno("setsockopt(SO_RCVBUF)");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    throwErrno("connect to 127.0.0.1:" + std::to_string(port));
  }
  sockaddr_in local{};
  socklen_t len = sizeof local;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len);
  localPort_ = ntohs(local.sin_port);
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawClient::send(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool RawClient::pump(SteadyClock::time_point until) {
  if (closed_) return false;
  pollfd p{fd_, POLLIN, 0};
  int ready = ::poll(&p, 1, millisUntil(until));
  if (ready < 0 && errno == EINTR) return true;
  if (ready <= 0) return SteadyClock::now() < until;
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n > 0) {
    in_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  closed_ = true;  // EOF, or a reset: either way the server is done with us
  return false;
}

bool RawClient::readUntilClosed(spindle::test::Millis timeout) {
  auto until = SteadyClock::now() + timeout;
  while (pump(until)) {
  }
  return closed_;
}

bool RawClient::readAtLeast(std::size_t n, spindle::test::Millis timeout) {
  auto until = SteadyClock::now() + timeout;
  while (in_.size() < n && pump(until)) {
  }
  return in_.size() >= n;
}

std::string netstring(std::string_view data) {
  return std::to_string(data.size()) + ":" + std::string(data) + ",";
}

}  // namespace poetry_test
