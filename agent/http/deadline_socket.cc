#include "agent/http/deadline_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <boost/asio/error.hpp>

#include <algorithm>
#include <cerrno>

namespace noa::agent {

DeadlineSocket::DeadlineSocket(int fd) : fd_(fd) {
  const int flags = ::fcntl(fd_, F_GETFL, 0);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

DeadlineSocket::~DeadlineSocket() {
  if (fd_ >= 0) ::close(fd_);
}

void DeadlineSocket::setLimits(Clock::time_point overall, std::chrono::milliseconds per_operation) {
  overall_ = overall;
  per_operation_ = per_operation;
}

void DeadlineSocket::shutdownSend() { ::shutdown(fd_, SHUT_WR); }

bool DeadlineSocket::waitFor(short events, boost::system::error_code& ec) {
  const Clock::time_point deadline = std::min(overall_, Clock::now() + per_operation_);
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{fd_, events, 0};
    const int n = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) {
      ec.assign(errno, boost::system::system_category());
      return false;
    }
  }
  timed_out_ = true;
  ec = boost::asio::error::timed_out;
  return false;
}

std::size_t DeadlineSocket::receive(void* data, std::size_t size, boost::system::error_code& ec) {
  while (true) {
    const ssize_t n = ::recv(fd_, data, size, 0);
    if (n > 0) {
      ec = {};
      return static_cast<std::size_t>(n);
    }
    if (n == 0) {
      ec = boost::asio::error::eof;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      ec.assign(errno, boost::system::system_category());
      return 0;
    }
    if (!waitFor(POLLIN, ec)) return 0;
  }
}

std::size_t DeadlineSocket::send(const Pieces& pieces, boost::system::error_code& ec) {
  iovec iov[kMaxPieces];
  for (int i = 0; i < pieces.count; ++i) {
    iov[i].iov_base = const_cast<void*>(pieces.data[i]);
    iov[i].iov_len = pieces.size[i];
  }
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = static_cast<std::size_t>(pieces.count);
  while (true) {
    const ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n >= 0) {
      ec = {};
      return static_cast<std::size_t>(n);
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      ec.assign(errno, boost::system::system_category());
      return 0;
    }
    if (!waitFor(POLLOUT, ec)) return 0;
  }
}

}  // namespace noa::agent
