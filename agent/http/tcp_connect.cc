#include "agent/http/tcp_connect.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace noa::agent {
namespace {

using std::chrono::milliseconds;

// Connects one address before `deadline`; the socket, or -errno explaining the failure.
int connectOne(const addrinfo& ai, SteadyDeadline deadline) {
  const int fd =
      ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) return -errno;
  int err = 0;
  if (::connect(fd, ai.ai_addr, ai.ai_addrlen) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      err = ETIMEDOUT;
      while (true) {
        const auto left =
            std::chrono::ceil<milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd pfd{fd, POLLOUT, 0};
        const int n = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          err = errno;
          break;
        }
        if (n == 0) break;  // timed out
        socklen_t len = sizeof(err);
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        break;
      }
    }
  }
  if (err != 0) {
    ::close(fd);
    return -err;
  }
  // Requests are written in one piece, but a header and a body may not be: never wait for the
  // peer's delayed ACK between them.
  int yes = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  return fd;
}

}  // namespace

Result<int> connectTcp(const std::string& host, int port, SteadyDeadline deadline) {
  const std::string target = host + ":" + std::to_string(port);
  const auto start = std::chrono::steady_clock::now();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  // getaddrinfo wants the bare address, not the bracketed form of a URL.
  std::string name = host;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  const int gai = ::getaddrinfo(name.c_str(), std::to_string(port).c_str(), &hints, &addrs);
  if (gai != 0) {
    return Status::Unavailable("connect to " + target + ": cannot resolve " + host + ": " +
                               ::gai_strerror(gai));
  }
  int result = -ETIMEDOUT;
  for (const addrinfo* ai = addrs; ai != nullptr; ai = ai->ai_next) {
    result = connectOne(*ai, deadline);
    if (result >= 0 || std::chrono::steady_clock::now() >= deadline) break;
  }
  ::freeaddrinfo(addrs);
  if (result >= 0) return result;
  if (result == -ETIMEDOUT) {
    const auto waited = std::chrono::duration_cast<milliseconds>(deadline - start);
    return Status::DeadlineExceeded("connect to " + target + " timed out after " +
                                    std::to_string(std::max<int64_t>(waited.count(), 0)) + "ms");
  }
  return Status::Unavailable("connect to " + target + ": " + std::strerror(-result));
}

}  // namespace noa::agent
