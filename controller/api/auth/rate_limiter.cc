#include "controller/api/auth/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace noa::controller::api {

void RateLimiter::refill(Bucket& bucket, MonoTime now) const {
  const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  if (elapsed > 0)
    bucket.tokens = std::min(limit_.burst, bucket.tokens + elapsed * limit_.per_second);
  bucket.updated = std::max(bucket.updated, now);
}

void RateLimiter::evictFull(MonoTime now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    refill(it->second, now);
    it = it->second.tokens >= limit_.burst ? buckets_.erase(it) : std::next(it);
  }
}

std::optional<std::chrono::seconds> RateLimiter::acquire(const std::string& actor) {
  const MonoTime now = clock_.now();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(actor);
  if (it == buckets_.end()) {
    if (buckets_.size() >= limit_.max_actors) evictFull(now);
    // Still full of busy actors: refuse newcomers rather than grow without bound.
    if (buckets_.size() >= limit_.max_actors) return std::chrono::seconds(1);
    it = buckets_.emplace(actor, Bucket{limit_.burst, now}).first;
  }
  Bucket& bucket = it->second;
  refill(bucket, now);
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return std::nullopt;
  }
  const double wait = (1 - bucket.tokens) / limit_.per_second;
  return std::chrono::seconds(std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait))));
}

}  // namespace noa::controller::api
