#pragma once

// Wakes a thread that waits in zmq::poll from any other thread: an eventfd that the socket
// wrappers poll beside their ZeroMQ socket. ZeroMQ sockets must not be touched from two
// threads, so a REST thread that created a command, or an action worker that produced a result,
// cannot send itself; it rings this and the socket's owner sends at once instead of at its next
// poll timeout (up to 100 ms later). notify() is thread-safe and never blocks; wakeups coalesce.

#include <chrono>
#include <zmq.hpp>

#include "common/status.h"

namespace noa::transport {

class Wakeup {
 public:
  Wakeup();
  ~Wakeup();
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  // Thread-safe, async-signal-safe.
  void notify() const;
  // Consumes pending notifications (the poller calls it when the fd was readable).
  void drain() const;
  // The file descriptor to poll for reading; -1 when eventfd failed (then polls just time out).
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// Waits up to `timeout` until `socket` has a message (true) or `wakeup` (optional) rang or the
// time ran out (false). Drains the wakeup. Throws zmq::error_t like zmq::poll.
bool waitReadable(zmq::socket_t& socket, std::chrono::milliseconds timeout, const Wakeup* wakeup);

}  // namespace noa::transport
