#pragma once

// A Clock that moves only when told to. Thread-safe.

#include <mutex>

#include "common/clock.h"

namespace noa::testing {

class FakeClock final : public Clock {
 public:
  FakeClock() : mono_(MonoTime(std::chrono::hours(1))), wall_(fromUnixMillis(1'790'000'000'000)) {}

  MonoTime now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return mono_;
  }
  WallTime wallNow() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return wall_;
  }
  template <class Rep, class Period>
  void advance(std::chrono::duration<Rep, Period> d) {
    std::lock_guard<std::mutex> lock(mu_);
    mono_ += std::chrono::duration_cast<MonoTime::duration>(d);
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  }
  // Moves only the wall clock, as an operator or NTP would.
  template <class Rep, class Period>
  void jumpWall(std::chrono::duration<Rep, Period> d) {
    std::lock_guard<std::mutex> lock(mu_);
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  }

 private:
  mutable std::mutex mu_;
  MonoTime mono_;
  WallTime wall_;
};

}  // namespace noa::testing
