#pragma once

// A stop flag that loops wait on instead of sleeping, so every loop ends within one wake-up of
// a stop request (SIGTERM, test teardown). Thread-safe.

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace noa {

class StopToken {
 public:
  void requestStop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
  }

  bool stopRequested() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }

  // Waits up to `timeout`; returns false when a stop was requested (now or before).
  template <class Rep, class Period>
  bool waitFor(std::chrono::duration<Rep, Period> timeout) const {
    std::unique_lock<std::mutex> lock(mu_);
    return !cv_.wait_for(lock, timeout, [this] { return stopped_; });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stopped_ = false;
};

}  // namespace noa
