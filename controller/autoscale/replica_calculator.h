#pragma once

// The per-metric half of the HPA algorithm (Kubernetes' replica_calculator.go, v1.33+ with
// per-direction tolerances): what one metric alone asks for, including how replicas without a
// sample and replicas that are not ready are counted. Pure; reference:
// ../shared/reference/hpa-probes-consul-sentinel.md section 1.3.
//
// Mapping to what agents report: a replica is one agent of the service. Lost agents are like
// deleted pods (ignored); an agent with no report yet, or still starting (startup probe), is a
// Pending pod; `ready` is the reported readiness. A resource's "request" is the replica's limit:
// CPU cpu_usage_cores of cpu_limit_cores (or cpu_usage_ratio_of_limit of 1), memory
// memory_bytes of memory_limit_bytes (or memory_usage_ratio of 1). Values are counted in
// milli-units as integers, as Kubernetes does, so percentages round the same way.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controller/autoscale/autoscale_policy.h"

namespace noa::controller::autoscale {

enum class ReplicaPhase { kRunning, kPending, kFailed };

struct ReplicaSample {
  std::string id;
  ReplicaPhase phase = ReplicaPhase::kRunning;
  bool has_ready_condition = true;  // false: never reported readiness
  bool ready = true;
  std::optional<int64_t> started_ms;      // session start
  int64_t ready_transition_ms = 0;        // last change of `ready`
  int64_t sample_ms = 0;                  // when the metrics below were taken
  int64_t window_ms = 1000;               // the interval one sample covers
  bool has_metrics = true;                // false: the agent sent no sample this round
  std::map<std::string, double> metrics;  // reported name -> value
};

struct Tolerances {
  double down = kDefaultTolerance;
  double up = kDefaultTolerance;
  bool within(double ratio) const { return (1.0 - down) <= ratio && ratio <= (1.0 + up); }
};

// What one metric proposes. `ok` false: the metric could not be evaluated (`error` says why,
// `condition_reason` is the Kubernetes ScalingActive reason, e.g. FailedGetResourceMetric).
struct MetricProposal {
  std::string metric;  // MetricSpec::label()
  bool ok = false;
  int32_t replicas = 0;
  double current = 0;  // utilization %, per-replica average or the total, as targeted
  double target = 0;
  double ratio = 0;
  std::string error;
  std::string condition_reason;
  std::string note;  // "within tolerance", "direction flipped by unready replicas", ...
  size_t ready = 0, unready = 0, missing = 0, ignored = 0;
};

struct CalcContext {
  int32_t current_replicas = 0;  // the scale target's spec replicas
  int32_t status_replicas = 0;   // replicas that exist (not ignored)
  int64_t now_ms = 0;
  int64_t cpu_initialization_period_ms = kDefaultCpuInitializationPeriodS * 1000;
  int64_t initial_readiness_delay_ms = kDefaultInitialReadinessDelayS * 1000;
  Tolerances tolerances;
};

// Resource and Pods metrics over `replicas`; External metrics use `external_value` (the sum of
// the metric over its reporting agents, nullopt when nobody reports it).
MetricProposal proposeReplicas(const MetricSpec& spec, const std::vector<ReplicaSample>& replicas,
                               std::optional<double> external_value, const CalcContext& ctx);

}  // namespace noa::controller::autoscale
