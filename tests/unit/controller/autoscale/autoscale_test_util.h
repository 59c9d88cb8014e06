#pragma once

// Builders for autoscale decision tests: replicas with CPU in milli-cores of a limit, and a
// "wanting" state whose only metric (an external AverageValue of 1) proposes exactly N
// replicas, so normalization vectors can be driven by their desired count alone.

#include <string>
#include <vector>

#include "controller/autoscale/autoscale_decision.h"

namespace noa::controller::autoscale::testing {

inline constexpr int64_t kNow = 10'000'000;  // ms on the test's monotonic scale

// A replica that started long ago and became ready shortly after (the CPU warm-up rules do not
// apply to it).
inline ReplicaSample steadyReplica(std::string id) {
  ReplicaSample r;
  r.id = std::move(id);
  r.started_ms = kNow - 3'600'000;
  r.ready_transition_ms = kNow - 3'590'000;
  r.sample_ms = kNow - 500;
  return r;
}

inline ReplicaSample cpuReplica(std::string id, int use_milli, int limit_milli = 1000) {
  ReplicaSample r = steadyReplica(std::move(id));
  r.metrics["cpu_usage_cores"] = use_milli / 1000.0;
  r.metrics["cpu_limit_cores"] = limit_milli / 1000.0;
  return r;
}

inline ReplicaSample noMetrics(std::string id) {
  ReplicaSample r = steadyReplica(std::move(id));
  r.has_metrics = false;
  return r;
}

inline ReplicaSample pending(std::string id) {
  ReplicaSample r = steadyReplica(std::move(id));
  r.phase = ReplicaPhase::kPending;
  r.ready = false;
  r.has_metrics = false;
  return r;
}

inline MetricSpec cpuUtilization(double percent) {
  return {MetricSourceType::kResource, "cpu", MetricTargetType::kUtilization, percent, ""};
}

inline MetricSpec wantMetric() {
  return {MetricSourceType::kExternal, "want", MetricTargetType::kAverageValue, 1, ""};
}

inline AutoscalePolicy wantPolicy(int32_t min, int32_t max) {
  AutoscalePolicy p;
  p.service = "svc";
  p.min_replicas = min;
  p.max_replicas = max;
  p.metrics = {wantMetric()};
  return p;
}

inline ObservedState wanting(int32_t current, int32_t desired) {
  ObservedState s;
  s.current_replicas = current;
  for (int i = 0; i < current; ++i) s.replicas.push_back(steadyReplica("r" + std::to_string(i)));
  s.external["external/want"] = desired;
  return s;
}

}  // namespace noa::controller::autoscale::testing
