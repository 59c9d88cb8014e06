#pragma once

// A token bucket per actor for mutating routes: `burst` calls at once, refilled at `per_second`.
// Measured on the monotonic clock. At most `max_actors` buckets are kept; when full, buckets
// that have refilled completely (indistinguishable from new ones) are dropped first, so memory
// stays bounded even with many JWT subjects. Thread-safe.

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"

namespace noa::controller::api {

struct RateLimit {
  double per_second = 5;
  double burst = 20;
  size_t max_actors = 10000;
};

class RateLimiter {
 public:
  RateLimiter(RateLimit limit, const Clock& clock) : limit_(limit), clock_(clock) {}

  // nullopt when `actor` may go ahead (one token taken); otherwise how long until a token is
  // there (at least 1 s, for Retry-After).
  std::optional<std::chrono::seconds> acquire(const std::string& actor);

 private:
  struct Bucket {
    double tokens;
    MonoTime updated;
  };
  void refill(Bucket& bucket, MonoTime now) const;
  void evictFull(MonoTime now);

  const RateLimit limit_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;  // guarded by mu_
};

}  // namespace noa::controller::api
