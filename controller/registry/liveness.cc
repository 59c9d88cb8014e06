#include "controller/registry/liveness.h"

#include <algorithm>

namespace noa::controller {

Liveness evaluateLiveness(std::chrono::milliseconds silent, std::chrono::milliseconds agent_interval,
                          const LivenessPolicy& policy) {
  // An agent that reports less often than the controller expects is judged by its own pace,
  // so a deliberately slow agent is not flagged; a faster one still gets the policy's window.
  const auto interval = std::max(agent_interval, policy.report_interval);
  if (silent > interval * policy.lost_after_intervals) return Liveness::kLost;
  if (silent > interval * policy.suspect_after_intervals) return Liveness::kSuspect;
  return Liveness::kAlive;
}

}  // namespace noa::controller
