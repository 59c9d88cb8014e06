#pragma once

// Time is injected. Durations and deadlines use the monotonic clock (a wall-clock jump must not
// expire a lease); the wall clock is only for timestamps shown to people and stored in records.

#include <chrono>
#include <cstdint>
#include <string>

namespace noa {

using MonoTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime now() const = 0;
  virtual WallTime wallNow() const = 0;
};

// The process's real clocks. Thread-safe.
class SystemClock final : public Clock {
 public:
  MonoTime now() const override { return std::chrono::steady_clock::now(); }
  WallTime wallNow() const override { return std::chrono::system_clock::now(); }
};

// Shared instance for production wiring; code under test receives a Clock& instead.
Clock& systemClock();

inline int64_t toUnixMillis(WallTime t) {
  return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
}
inline WallTime fromUnixMillis(int64_t ms) { return WallTime(Millis(ms)); }

// "2026-11-22T10:00:00.123Z"
std::string formatRfc3339(WallTime t);

}  // namespace noa
