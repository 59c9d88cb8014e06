#include "common/transport/wakeup.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace noa::transport {

Wakeup::Wakeup() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

Wakeup::~Wakeup() {
  if (fd_ >= 0) ::close(fd_);
}

void Wakeup::notify() const {
  if (fd_ < 0) return;
  const uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: a wakeup is pending, which is all we need.
  [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
}

void Wakeup::drain() const {
  if (fd_ < 0) return;
  uint64_t count = 0;
  [[maybe_unused]] const ssize_t n = ::read(fd_, &count, sizeof count);
}

bool waitReadable(zmq::socket_t& socket, std::chrono::milliseconds timeout, const Wakeup* wakeup) {
  zmq::pollitem_t items[2] = {{socket.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, -1, ZMQ_POLLIN, 0}};
  const bool with_wakeup = wakeup != nullptr && wakeup->fd() >= 0;
  if (with_wakeup) items[1].fd = wakeup->fd();
  if (zmq::poll(items, with_wakeup ? 2 : 1, timeout) == 0) return false;
  if (with_wakeup && (items[1].revents & ZMQ_POLLIN) != 0) wakeup->drain();
  return (items[0].revents & ZMQ_POLLIN) != 0;
}

}  // namespace noa::transport
