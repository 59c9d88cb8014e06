#pragma once

// The probe state machine with Kubernetes semantics (see
// /work/shared/reference/hpa-probes-consul-sentinel.md section 2), kept free of threads and real
// time so that every rule is tested on a FakeClock:
//   - a probe starts "unknown" and is first attempted `initial_delay` after probing began;
//   - its status turns to failure after `failure_threshold` consecutive failures and to success
//     after `success_threshold` consecutive successes; shorter runs leave it as it was;
//   - attempts follow a grid of `period` from the first one; a slow attempt skips the ticks it
//     overran instead of running back to back;
//   - liveness and readiness do not run until every startup probe has succeeded once, and a
//     startup probe stops running after its first success.
// Not thread-safe: the Prober guards it with its mutex.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/probes/probe_spec.h"
#include "common/clock.h"
#include "common/protocol/messages.h"

namespace noa::agent {

enum class ProbeStatus { kUnknown, kSuccess, kFailure };

std::string_view probeStatusName(ProbeStatus status);  // "unknown" | "success" | "failure"

inline constexpr size_t kMaxDetailBytes = 256;

// Cuts `detail` to at most kMaxDetailBytes without splitting a UTF-8 sequence.
std::string truncateDetail(std::string detail);

// One finished attempt, as the state machine sees it.
struct Attempt {
  bool success = false;
  std::chrono::microseconds latency{0};
  std::string detail;
};

class ProbeState {
 public:
  // `probing_began` is when the agent started probing; the initial delay counts from there.
  ProbeState(ProbeSpec spec, MonoTime probing_began);

  const ProbeSpec& spec() const { return spec_; }
  ProbeStatus status() const { return status_; }
  uint32_t consecutiveSuccesses() const { return last_success_ ? run_ : 0; }
  uint32_t consecutiveFailures() const { return last_success_ ? 0 : run_; }
  uint64_t attempts() const { return attempts_; }
  uint64_t failedAttempts() const { return failed_attempts_; }

  // The earliest time of the next attempt (gating aside).
  MonoTime nextAttemptAt() const { return next_attempt_; }
  // A startup probe that has succeeded is finished and never runs again.
  bool finished() const;

  // Records an attempt that began at `began`, schedules the next one and returns true when the
  // status changed.
  bool record(const Attempt& attempt, MonoTime began);

  protocol::ProbeState toProtocol() const;

 private:
  ProbeSpec spec_;
  ProbeStatus status_ = ProbeStatus::kUnknown;
  bool last_success_ = false;
  uint32_t run_ = 0;  // length of the current run of equal results
  uint64_t attempts_ = 0;
  uint64_t failed_attempts_ = 0;
  MonoTime next_attempt_;
  std::chrono::microseconds last_latency_{0};
  std::string last_detail_;
};

// The probes of one agent: startup gating, which probe is due, and the aggregate health.
class ProbeSet {
 public:
  ProbeSet(std::vector<ProbeSpec> specs, MonoTime probing_began);

  size_t size() const { return probes_.size(); }
  const ProbeState& probe(size_t i) const { return probes_[i]; }

  // True when there is no startup probe or every startup probe has succeeded.
  bool started() const;

  // True when probe `i` should run at `now`.
  bool due(size_t i, MonoTime now) const;

  // When probe `i` should be looked at again; nullopt while it waits for another probe's change
  // (gated by startup) or has nothing left to do (a finished startup probe).
  std::optional<MonoTime> wakeAt(size_t i) const;

  // See ProbeState::record.
  bool record(size_t i, const Attempt& attempt, MonoTime began);

  protocol::Health health() const;

 private:
  bool gated(size_t i) const;

  std::vector<ProbeState> probes_;
};

// Health from probe states:
//   started = no startup probe, or every startup probe succeeded;
//   live    = no liveness probe in failure;
//   ready   = every readiness probe in success;
//   state   = "starting" until started, then "healthy" when live and ready, else "unhealthy".
// Without any probe nothing is known about the service: state "unknown", flags true.
protocol::Health aggregateHealth(std::vector<protocol::ProbeState> probes);

}  // namespace noa::agent
