#pragma once

// A token bucket on an injected monotonic time: `rate` tokens per second up to `burst`.
// Pure and not thread-safe; the owner serialises calls.

#include <algorithm>
#include <chrono>

#include "common/clock.h"

namespace noa::controller {

class TokenBucket {
 public:
  TokenBucket(double rate_per_second, double burst, MonoTime now)
      : rate_(rate_per_second), burst_(burst), tokens_(burst), last_(now) {}

  // Takes one token if there is one.
  bool take(MonoTime now) {
    if (now > last_) {
      const double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
      last_ = now;
    }
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  MonoTime last_;
};

}  // namespace noa::controller
