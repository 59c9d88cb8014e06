#pragma once

// Per-second rates of monotonically increasing counters (CPU microseconds, request totals).

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace noa::agent {

// Remembers the previous sample of each named counter and turns the next one into a rate.
// Not thread-safe: owned by one collector.
class CounterRates {
 public:
  // Bounds the memory a misbehaving source (e.g. ever-changing names) can make us hold.
  static constexpr std::size_t kMaxSeries = 4096;

  // Records `value` at `now` and returns (value - previous) / seconds since the previous sample.
  // Returns nothing for the first sample of a name, after a reset (value decreased: the counter
  // restarted, so any delta would be a negative spike), when time did not move forward, or for
  // a non-finite value. A reset or a non-finite value restarts the series.
  std::optional<double> update(const std::string& name, double value, MonoTime now);

  void forget(const std::string& name) { samples_.erase(name); }
  void clear() { samples_.clear(); }
  std::size_t size() const { return samples_.size(); }

 private:
  struct Sample {
    double value = 0;
    MonoTime at;
  };
  std::unordered_map<std::string, Sample> samples_;
};

}  // namespace noa::agent
