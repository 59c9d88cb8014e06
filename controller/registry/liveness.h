#pragma once

// Whether an agent is alive, from how long it has been silent (Paranoid Pirate liveness:
// suspect after a few missed reports, lost after a few more). Pure.

#include <chrono>
#include <cstdint>

#include "controller/registry/agent_record.h"

namespace noa::controller {

struct LivenessPolicy {
  std::chrono::milliseconds report_interval{1000};
  uint32_t suspect_after_intervals = 3;
  uint32_t lost_after_intervals = 5;
};

// `silent` is the time since the agent's last message, measured on the monotonic clock.
// `agent_interval` is the interval the agent announced (0 = use the policy's).
Liveness evaluateLiveness(std::chrono::milliseconds silent, std::chrono::milliseconds agent_interval,
                          const LivenessPolicy& policy);

}  // namespace noa::controller
