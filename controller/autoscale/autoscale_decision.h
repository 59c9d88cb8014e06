#pragma once

// The HPA decision for one service: a pure function of what was observed, the policy, the
// history of recommendations and scale events, and now. Kubernetes' horizontal.go reconcile
// (autoscaling/v2): the guards (zero replicas, above max, below min), the maximum over the
// per-metric proposals, then normalization (legacy path without `behavior`, or stabilization
// windows and rate policies with it), and the three conditions with Kubernetes' reasons.
// Reference: ../shared/reference/hpa-probes-consul-sentinel.md sections 1.2-1.5.
//
// Times are milliseconds on one monotonic scale chosen by the caller; windows count an entry
// when its time is strictly after now - window, as Kubernetes does.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controller/autoscale/autoscale_policy.h"
#include "controller/autoscale/replica_calculator.h"

namespace noa::controller::autoscale {

struct ObservedState {
  // The scale target's replica count as the actuator reports it (Kubernetes' scale.spec).
  std::optional<int32_t> current_replicas;
  std::string scale_error;  // why current_replicas is unknown (FailedGetScale)
  std::vector<ReplicaSample> replicas;
  // External metric values by MetricSpec::label(); absent = nobody reports it.
  std::map<std::string, double> external;
};

struct Recommendation {
  int64_t at_ms = 0;
  int32_t replicas = 0;
  bool operator==(const Recommendation&) const = default;
};

struct ScaleEvent {
  int64_t at_ms = 0;
  int32_t change = 0;  // |replica change|
  bool operator==(const ScaleEvent&) const = default;
};

struct AutoscaleHistory {
  std::vector<Recommendation> recommendations;  // unstabilized, oldest first
  std::vector<ScaleEvent> up_events;
  std::vector<ScaleEvent> down_events;
  bool operator==(const AutoscaleHistory&) const = default;
};

struct Condition {
  std::string type;                // "AbleToScale" | "ScalingActive" | "ScalingLimited"
  std::string status = "Unknown";  // "True" | "False" | "Unknown" (not evaluated this time)
  std::string reason;
  std::string message;
  bool operator==(const Condition&) const = default;
};

struct AutoscaleDecision {
  int32_t current = 0;
  int32_t desired = 0;                    // what to scale to (== current: no change)
  std::optional<int32_t> metric_desired;  // max over the valid proposals, before normalization
  std::optional<int32_t> stabilized;      // after the stabilization window(s)
  std::string metric;                     // the metric whose proposal won
  std::vector<MetricProposal> proposals;
  std::string limiting_rule;  // "" | "ScaleUpLimit: Pods 4 per 15s" | "TooManyReplicas: max 10" ...
  Condition able_to_scale;
  Condition scaling_active;
  Condition scaling_limited;
  bool rescale = false;
  std::string action;  // "scale_up" | "scale_down" | "hold" | "limited" | "error"
  std::string reason;  // one line for people
  // The history to keep after this evaluation (the new recommendation stored, old entries
  // recycled). Scale events are added by recordScale once the actuator succeeded.
  AutoscaleHistory history;
};

AutoscaleDecision decideScale(const ObservedState& state, const AutoscalePolicy& policy,
                              const AutoscaleHistory& history, int64_t now_ms);

// Adds a successful rescale from `from` to `to` to the history (only kept with `behavior`, as
// Kubernetes does; the legacy path has no time-based rate limit).
void recordScale(AutoscaleHistory& history, const AutoscalePolicy& policy, int32_t from, int32_t to,
                 int64_t now_ms);

}  // namespace noa::controller::autoscale
