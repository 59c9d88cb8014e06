#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/probes/checks.h"
#include "common/clock.h"

namespace noa::agent {
namespace {

using std::chrono::milliseconds;

// Connects one address within `deadline`; returns 0 or the errno that explains the failure.
int connectBefore(const addrinfo& ai, std::chrono::steady_clock::time_point deadline) {
  const int fd =
      ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) return errno;
  int err = 0;
  if (::connect(fd, ai.ai_addr, ai.ai_addrlen) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      err = ETIMEDOUT;
      while (true) {
        const auto left =
            std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
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
  ::close(fd);
  return err;
}

}  // namespace

CheckOutcome checkTcp(const TcpSocket& tcp, milliseconds timeout) {
  CheckOutcome out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string target = tcp.host + ":" + std::to_string(tcp.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  const int gai = ::getaddrinfo(tcp.host.c_str(), std::to_string(tcp.port).c_str(), &hints, &addrs);
  if (gai != 0) {
    out.detail = "cannot resolve " + tcp.host + ": " + ::gai_strerror(gai);
    return out;
  }
  int err = ETIMEDOUT;
  for (const addrinfo* ai = addrs; ai != nullptr; ai = ai->ai_next) {
    err = connectBefore(*ai, deadline);
    if (err == 0 || std::chrono::steady_clock::now() >= deadline) break;
  }
  ::freeaddrinfo(addrs);
  if (err == 0) {
    out.success = true;
    out.detail = "connected to " + target;
  } else if (err == ETIMEDOUT) {
    out.detail =
        "connect to " + target + " timed out after " + std::to_string(timeout.count()) + "ms";
  } else {
    out.detail = "connect to " + target + ": " + std::strerror(err);
  }
  return out;
}

}  // namespace noa::agent
