#include "controller/autoscale/autoscale_record.h"

namespace noa::controller::autoscale {

using nlohmann::json;

json proposalToJson(const MetricProposal& p) {
  json j = {{"metric", p.metric}, {"ok", p.ok}, {"target", p.target}};
  if (p.ok) {
    j["replicas"] = p.replicas;
    j["current"] = p.current;
    j["ratio"] = p.ratio;
  } else {
    j["error"] = p.error;
    j["condition_reason"] = p.condition_reason;
  }
  if (!p.note.empty()) j["note"] = p.note;
  j["ready"] = p.ready;
  j["unready"] = p.unready;
  j["missing"] = p.missing;
  j["ignored"] = p.ignored;
  return j;
}

json conditionsToJson(const AutoscaleDecision& d) {
  json out = json::object();
  for (const Condition* c : {&d.able_to_scale, &d.scaling_active, &d.scaling_limited}) {
    out[c->type] = {{"status", c->status}, {"reason", c->reason}, {"message", c->message}};
  }
  return out;
}

decisions::DecisionRecord toDecisionRecord(const AutoscalePolicy& policy,
                                           const ObservedState& state, const AutoscaleDecision& d,
                                           const std::string& mode) {
  decisions::DecisionRecord r;
  r.service = policy.service;
  r.kind = "autoscale";
  r.action = d.action;
  r.reason = d.reason;
  if (mode == "dry_run" && d.rescale) r.reason += " (dry run: not actuated)";

  json metrics = json::array();
  for (const MetricSpec& m : policy.metrics) {
    metrics.push_back({{"metric", m.label()},
                       {"target_type", metricTargetTypeName(m.target_type)},
                       {"target", m.target}});
  }
  size_t running = 0, pending = 0, failed = 0, ready = 0;
  for (const ReplicaSample& s : state.replicas) {
    if (s.phase == ReplicaPhase::kRunning) ++running;
    if (s.phase == ReplicaPhase::kPending) ++pending;
    if (s.phase == ReplicaPhase::kFailed) ++failed;
    if (s.phase == ReplicaPhase::kRunning && s.ready) ++ready;
  }
  r.inputs = {{"current_replicas", state.current_replicas ? json(*state.current_replicas) : json()},
              {"min_replicas", policy.min_replicas},
              {"max_replicas", policy.max_replicas},
              {"mode", mode},
              {"path", policy.behavior ? "behavior" : "legacy"},
              {"metrics", metrics},
              {"replicas",
               {{"running", running}, {"ready", ready}, {"pending", pending}, {"lost", failed}}},
              {"external", state.external}};
  if (!state.scale_error.empty()) r.inputs["scale_error"] = state.scale_error;

  json proposals = json::array();
  for (const MetricProposal& p : d.proposals) proposals.push_back(proposalToJson(p));
  r.outcome = {{"desired_replicas", d.desired},
               {"metric_desired", d.metric_desired ? json(*d.metric_desired) : json()},
               {"stabilized", d.stabilized ? json(*d.stabilized) : json()},
               {"metric", d.metric},
               {"proposals", proposals},
               {"limiting_rule", d.limiting_rule},
               {"conditions", conditionsToJson(d)},
               {"rescale", d.rescale}};
  return r;
}

}  // namespace noa::controller::autoscale
