#pragma once

// Long-polls (GET /v1/commands/{id}?wait=) each hold one of the REST server's pool threads while
// they wait. LongPollSlots bounds how many may wait at once, so waiters cannot starve every other
// request of a thread, and tells them when the server stops, so stop() is not held up for a whole
// wait. A request that finds no free slot is answered at once with what is known (the client
// asks again). Thread-safe.

#include <atomic>
#include <cstddef>

namespace noa::controller::api {

class LongPollSlots {
 public:
  explicit LongPollSlots(size_t max_waiters) : max_waiters_(max_waiters) {}

  // True when the caller may wait; it must call release() when done.
  bool tryAcquire() {
    size_t active = active_.load();
    while (active < max_waiters_) {
      if (active_.compare_exchange_weak(active, active + 1)) return true;
    }
    return false;
  }
  void release() { active_.fetch_sub(1); }

  // Set by the server when it stops; waiters watch it (and are woken by whoever sets it).
  const std::atomic<bool>& stopping() const { return stopping_; }
  void stop() { stopping_ = true; }

  size_t maxWaiters() const { return max_waiters_; }

 private:
  const size_t max_waiters_;
  std::atomic<size_t> active_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace noa::controller::api
