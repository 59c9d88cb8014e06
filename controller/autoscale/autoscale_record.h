#pragma once

// An autoscale evaluation as a decision record (kind "autoscale"): what it saw (inputs) and
// what it concluded (outcome: per-metric proposals, the limiting rule, the conditions). The
// same JSON shapes serve `GET /v1/services/{name}/autoscale`.
//
//   action  "scale_up" | "scale_down" | "hold" | "limited" | "error"
//   inputs  {"current_replicas", "min_replicas", "max_replicas", "mode", "path": "legacy" |
//            "behavior", "metrics": [{"metric", "target_type", "target"}], "replicas": {"ready",
//            "unready", "missing", "ignored"}, "external": {...}}
//   outcome {"desired_replicas", "metric_desired", "stabilized", "metric", "proposals": [...],
//            "limiting_rule", "conditions": {"AbleToScale": {"status", "reason", "message"},
//            ...}, "actuated", "error"}

#include <nlohmann/json.hpp>
#include <string>

#include "controller/autoscale/autoscale_decision.h"
#include "controller/decisions/decision_record.h"

namespace noa::controller::autoscale {

nlohmann::json proposalToJson(const MetricProposal& p);
nlohmann::json conditionsToJson(const AutoscaleDecision& d);

// How the evaluation was applied: "auto" (the actuator was called), "dry_run" (recorded only),
// "override" (a manual `noactl scale` pinned the count), "paused".
decisions::DecisionRecord toDecisionRecord(const AutoscalePolicy& policy,
                                           const ObservedState& state, const AutoscaleDecision& d,
                                           const std::string& mode);

}  // namespace noa::controller::autoscale
