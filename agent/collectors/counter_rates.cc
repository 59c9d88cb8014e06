#include "agent/collectors/counter_rates.h"

#include <chrono>
#include <cmath>

namespace noa::agent {

std::optional<double> CounterRates::update(const std::string& name, double value, MonoTime now) {
  if (!std::isfinite(value)) {
    samples_.erase(name);
    return std::nullopt;
  }
  auto it = samples_.find(name);
  if (it == samples_.end()) {
    if (samples_.size() < kMaxSeries) samples_.emplace(name, Sample{value, now});
    return std::nullopt;
  }
  Sample& prev = it->second;
  if (now <= prev.at) {
    // Two samples at the same instant carry no rate; keep the older one so the next call spans
    // a real interval.
    return std::nullopt;
  }
  const double seconds = std::chrono::duration<double>(now - prev.at).count();
  const double delta = value - prev.value;
  prev = Sample{value, now};
  if (delta < 0) return std::nullopt;
  return delta / seconds;
}

}  // namespace noa::agent
