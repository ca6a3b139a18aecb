// Internal: the socket system calls the library makes on its data and connection paths, in one
// place, so that a test build can disturb them (SPINDLE_FAULT_INJECTION, src/fault_injection.hpp).
// In a normal build every wrapper is an inline call of the plain system call: it costs nothing.
#pragma once

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

namespace spindle::detail::sys {

#ifdef SPINDLE_FAULT_INJECTION

// Defined in fault_injection.cpp: each consults the installed plan, then makes the real call.
ssize_t recv(int fd, void* buf, size_t len, int flags);
ssize_t send(int fd, const void* buf, size_t len, int flags);
ssize_t sendmsg(int fd, const msghdr* msg, int flags);
int accept4(int fd, sockaddr* addr, socklen_t* len, int flags);
int connect(int fd, const sockaddr* addr, socklen_t len);
int epoll_wait(int epfd, epoll_event* events, int maxEvents, int timeoutMs);

#else

inline ssize_t recv(int fd, void* buf, size_t len, int flags) {
  return ::recv(fd, buf, len, flags);
}
inline ssize_t send(int fd, const void* buf, size_t len, int flags) {
  return ::send(fd, buf, len, flags);
}
inline ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  return ::sendmsg(fd, msg, flags);
}
inline int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  return ::accept4(fd, addr, len, flags);
}
inline int connect(int fd, const sockaddr* addr, socklen_t len) {
  return ::connect(fd, addr, len);
}
inline int epoll_wait(int epfd, epoll_event* events, int maxEvents, int timeoutMs) {
  return ::epoll_wait(epfd, events, maxEvents, timeoutMs);
}

#endif

}  // namespace spindle::detail::sys
