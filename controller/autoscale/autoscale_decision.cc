#include "controller/autoscale/autoscale_decision.h"

#include <algorithm>
#include <climits>
#include <cmath>

namespace noa::controller::autoscale {
namespace {

Condition cond(const char* type, bool status, std::string reason, std::string message) {
  return {type, status ? "True" : "False", std::move(reason), std::move(message)};
}

constexpr const char* kAbleToScale = "AbleToScale";
constexpr const char* kScalingActive = "ScalingActive";
constexpr const char* kScalingLimited = "ScalingLimited";

const char* kWithinRangeMsg = "the desired count is within the acceptable range";

// Legacy path (behavior nil): the highest recommendation of the last 300 s, then at most
// max(2 x current, 4) per evaluation (a guard Kubernetes added against bogus CPU spikes).
void normalizeLegacy(AutoscaleDecision& d, const AutoscalePolicy& policy, int32_t desired0,
                     int64_t now_ms) {
  const int64_t cutoff = now_ms - policy.downscale_stabilization_s * 1000;
  int32_t stab = desired0;
  auto& recs = d.history.recommendations;
  for (const Recommendation& r : recs) {
    if (r.at_ms >= cutoff) stab = std::max(stab, r.replicas);
  }
  std::erase_if(recs, [&](const Recommendation& r) { return r.at_ms < cutoff; });
  recs.push_back({now_ms, desired0});
  d.stabilized = stab;
  d.able_to_scale =
      stab != desired0
          ? cond(kAbleToScale, true, "ScaleDownStabilized",
                 "recent recommendations were higher than current one, applying the highest "
                 "recent recommendation")
          : cond(kAbleToScale, true, "ReadyForNewScale", "recommended size matches current size");

  const int32_t up_limit = static_cast<int32_t>(std::max(2.0 * d.current, 4.0));
  int32_t hi = policy.max_replicas;
  std::string reason = "TooManyReplicas",
              message = "the desired replica count is more than the maximum replica count";
  std::string rule = "TooManyReplicas: max_replicas " + std::to_string(policy.max_replicas);
  if (policy.max_replicas > up_limit) {
    hi = up_limit;
    reason = "ScaleUpLimit";
    message = "the desired replica count is increasing faster than the maximum scale rate";
    rule = "ScaleUpLimit: max(2 x current, 4) = " + std::to_string(up_limit);
  }
  int32_t out = stab;
  if (stab < policy.min_replicas) {
    out = policy.min_replicas;
    reason = "TooFewReplicas";
    message = "the desired replica count is less than the minimum replica count";
    rule = "TooFewReplicas: min_replicas " + std::to_string(policy.min_replicas);
  } else if (stab > hi) {
    out = hi;
  }
  d.desired = out;
  if (out != stab) {
    d.scaling_limited = cond(kScalingLimited, true, reason, message);
    d.limiting_rule = rule;
  } else {
    d.scaling_limited = cond(kScalingLimited, false, "DesiredWithinRange", kWithinRangeMsg);
  }
}

int32_t changedWithin(const std::vector<ScaleEvent>& events, int64_t period_s, int64_t now_ms) {
  int32_t sum = 0;
  for (const ScaleEvent& e : events) {
    if (e.at_ms > now_ms - period_s * 1000) sum += e.change;
  }
  return sum;
}

// The furthest the rules allow from `current` in one direction, and the policy that gave it.
int32_t rateLimit(const ScalingRules& rules, bool up, int32_t current, const AutoscaleHistory& h,
                  int64_t now_ms, std::string* rule) {
  if (rules.select == SelectPolicy::kDisabled) {
    *rule = std::string(up ? "scaleUp" : "scaleDown") + " selectPolicy Disabled";
    return current;
  }
  // Max picks the biggest change (up: highest, down: lowest), Min the smallest.
  const bool pick_high = (rules.select == SelectPolicy::kMax) == up;
  int32_t result = pick_high ? INT32_MIN : INT32_MAX;
  for (const ScalingPolicy& p : rules.policies) {
    const int32_t start = current - changedWithin(h.up_events, p.period_s, now_ms) +
                          changedWithin(h.down_events, p.period_s, now_ms);
    int32_t proposed;
    if (up) {
      proposed = p.type == ScalingPolicyType::kPods
                     ? start + p.value
                     : static_cast<int32_t>(std::ceil(start * (1 + p.value / 100.0)));
    } else {
      proposed = p.type == ScalingPolicyType::kPods
                     ? start - p.value
                     : static_cast<int32_t>(start * (1 - p.value / 100.0));
    }
    if (pick_high ? proposed > result : proposed < result) {
      result = proposed;
      *rule = std::string(up ? "scaleUp " : "scaleDown ") + p.describe() + " (from " +
              std::to_string(start) + ")";
    }
  }
  return result;
}

void normalizeWithBehavior(AutoscaleDecision& d, const AutoscalePolicy& policy, const Behavior& b,
                           int32_t desired0, int64_t now_ms) {
  const int64_t up_cutoff = now_ms - b.scale_up.stabilization_window_s * 1000;
  const int64_t down_cutoff = now_ms - b.scale_down.stabilization_window_s * 1000;
  int32_t up_floor = desired0, down_ceil = desired0;
  auto& recs = d.history.recommendations;
  for (const Recommendation& r : recs) {
    if (r.at_ms > up_cutoff) up_floor = std::min(up_floor, r.replicas);
    if (r.at_ms > down_cutoff) down_ceil = std::max(down_ceil, r.replicas);
  }
  std::erase_if(
      recs, [&](const Recommendation& r) { return r.at_ms < up_cutoff && r.at_ms < down_cutoff; });
  recs.push_back({now_ms, desired0});
  const int32_t stab = std::min(std::max(d.current, up_floor), down_ceil);
  d.stabilized = stab;
  if (stab == desired0) {
    d.able_to_scale =
        cond(kAbleToScale, true, "ReadyForNewScale", "recommended size matches current size");
  } else if (desired0 >= d.current) {
    d.able_to_scale = cond(kAbleToScale, true, "ScaleUpStabilized",
                           "recent recommendations were lower than current one, applying the "
                           "lowest recent recommendation");
  } else {
    d.able_to_scale = cond(kAbleToScale, true, "ScaleDownStabilized",
                           "recent recommendations were higher than current one, applying the "
                           "highest recent recommendation");
  }

  int32_t out = stab;
  std::string reason = "DesiredWithinRange", message = kWithinRangeMsg, rule;
  if (stab > d.current) {
    std::string policy_rule;
    const int32_t limit = std::max(
        rateLimit(b.scale_up, true, d.current, d.history, now_ms, &policy_rule), d.current);
    int32_t allowed = policy.max_replicas;
    if (allowed > limit) {
      allowed = limit;
      reason = "ScaleUpLimit";
      message = "the desired replica count is increasing faster than the maximum scale rate";
      rule = "ScaleUpLimit: " + policy_rule + " = " + std::to_string(limit);
    } else {
      reason = "TooManyReplicas";
      message = "the desired replica count is more than the maximum replica count";
      rule = "TooManyReplicas: max_replicas " + std::to_string(policy.max_replicas);
    }
    if (stab > allowed) out = allowed;
  } else if (stab < d.current) {
    std::string policy_rule;
    const int32_t limit = std::min(
        rateLimit(b.scale_down, false, d.current, d.history, now_ms, &policy_rule), d.current);
    int32_t allowed = policy.min_replicas;
    if (allowed < limit) {
      allowed = limit;
      reason = "ScaleDownLimit";
      message = "the desired replica count is decreasing faster than the maximum scale rate";
      rule = "ScaleDownLimit: " + policy_rule + " = " + std::to_string(limit);
    } else {
      reason = "TooFewReplicas";
      message = "the desired replica count is less than the minimum replica count";
      rule = "TooFewReplicas: min_replicas " + std::to_string(policy.min_replicas);
    }
    if (stab < allowed) out = allowed;
  }
  d.desired = out;
  if (out != stab) {
    d.scaling_limited = cond(kScalingLimited, true, reason, message);
    d.limiting_rule = rule;
  } else {
    d.scaling_limited = cond(kScalingLimited, false, "DesiredWithinRange", kWithinRangeMsg);
  }
}

std::string describeProposal(const MetricProposal& p) {
  if (!p.ok) return p.metric + ": " + p.error;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s %g vs target %g -> %d", p.metric.c_str(), p.current, p.target,
                p.replicas);
  return buf;
}

void finish(AutoscaleDecision& d) {
  d.rescale = d.desired != d.current;
  const std::string move = std::to_string(d.current) + " -> " + std::to_string(d.desired);
  std::string why;
  for (const MetricProposal& p : d.proposals) {
    if (p.ok && p.metric == d.metric) why = describeProposal(p);
  }
  if (d.desired > d.current) {
    d.action = "scale_up";
    d.reason = "scale up " + move;
  } else if (d.desired < d.current) {
    d.action = "scale_down";
    d.reason = "scale down " + move;
  } else if (d.scaling_limited.status == "True") {
    d.action = "limited";
    d.reason = "hold at " + std::to_string(d.current);
  } else {
    d.action = "hold";
    d.reason = "hold at " + std::to_string(d.current);
  }
  if (!why.empty()) d.reason += ": " + why;
  if (d.stabilized && d.metric_desired && *d.stabilized != *d.metric_desired) {
    d.reason += "; " + d.able_to_scale.reason + " at " + std::to_string(*d.stabilized);
  }
  if (!d.limiting_rule.empty()) d.reason += "; limited by " + d.limiting_rule;
}

}  // namespace

AutoscaleDecision decideScale(const ObservedState& state, const AutoscalePolicy& policy,
                              const AutoscaleHistory& history, int64_t now_ms) {
  AutoscaleDecision d;
  d.history = history;
  d.able_to_scale.type = kAbleToScale;
  d.scaling_active.type = kScalingActive;
  d.scaling_limited.type = kScalingLimited;
  if (!state.current_replicas) {
    d.able_to_scale =
        cond(kAbleToScale, false, "FailedGetScale",
             "the autoscaler was unable to get the target's current scale: " + state.scale_error);
    d.action = "error";
    d.reason = "cannot read current replicas: " + state.scale_error;
    return d;
  }
  d.current = *state.current_replicas;
  d.desired = d.current;
  d.able_to_scale = cond(kAbleToScale, true, "SucceededGetScale",
                         "the autoscaler was able to get the target's current scale");
  if (d.history.recommendations.empty()) d.history.recommendations.push_back({now_ms, d.current});

  if (d.current == 0 && policy.min_replicas != 0) {
    d.scaling_active = cond(kScalingActive, false, "ScalingDisabled",
                            "scaling is disabled since the replica count of the target is zero");
    finish(d);
    d.reason = "hold at 0: scaling is disabled since the replica count is zero (min_replicas " +
               std::to_string(policy.min_replicas) + ")";
    return d;
  }
  if (d.current > policy.max_replicas || d.current < policy.min_replicas) {
    const bool above = d.current > policy.max_replicas;
    d.desired = above ? policy.max_replicas : policy.min_replicas;
    d.limiting_rule = above ? "TooManyReplicas: max_replicas " + std::to_string(policy.max_replicas)
                            : "TooFewReplicas: min_replicas " + std::to_string(policy.min_replicas);
    d.scaling_limited =
        cond(kScalingLimited, true, above ? "TooManyReplicas" : "TooFewReplicas",
             above ? "current replicas above max_replicas" : "current replicas below min_replicas");
    finish(d);
    return d;
  }

  CalcContext ctx;
  ctx.current_replicas = d.current;
  ctx.now_ms = now_ms;
  ctx.cpu_initialization_period_ms = policy.cpu_initialization_period_s * 1000;
  ctx.initial_readiness_delay_ms = policy.initial_readiness_delay_s * 1000;
  ctx.tolerances = policy.behavior ? Tolerances{policy.behavior->scale_down.tolerance,
                                                policy.behavior->scale_up.tolerance}
                                   : Tolerances{policy.tolerance, policy.tolerance};
  for (const ReplicaSample& r : state.replicas) {
    if (r.phase != ReplicaPhase::kFailed) ++ctx.status_replicas;
  }
  int32_t best = -1;
  const MetricProposal* first_failure = nullptr;
  size_t invalid = 0;
  for (const MetricSpec& spec : policy.metrics) {
    std::optional<double> external;
    if (auto it = state.external.find(spec.label()); it != state.external.end()) {
      external = it->second;
    }
    d.proposals.push_back(proposeReplicas(spec, state.replicas, external, ctx));
  }
  for (const MetricProposal& p : d.proposals) {
    if (!p.ok) {
      if (first_failure == nullptr) first_failure = &p;
      ++invalid;
      continue;
    }
    if (best == -1 || p.replicas > best) {
      best = p.replicas;
      d.metric = p.metric;
    }
  }
  // A failing metric may not be the one that would have asked for more: never scale down on
  // partial information.
  if (invalid >= policy.metrics.size() || (invalid > 0 && best < d.current)) {
    d.scaling_active = cond(kScalingActive, false, first_failure->condition_reason,
                            "invalid metrics (" + std::to_string(invalid) + " invalid out of " +
                                std::to_string(policy.metrics.size()) +
                                "), first error is: " + first_failure->error);
    d.action = "error";
    d.reason = "no scaling: " + d.scaling_active.message;
    return d;
  }
  d.scaling_active =
      cond(kScalingActive, true, "ValidMetricFound",
           "the HPA was able to successfully calculate a replica count from " + d.metric);
  d.metric_desired = best;
  if (policy.behavior) {
    normalizeWithBehavior(d, policy, *policy.behavior, best, now_ms);
  } else {
    normalizeLegacy(d, policy, best, now_ms);
  }
  finish(d);
  return d;
}

void recordScale(AutoscaleHistory& history, const AutoscalePolicy& policy, int32_t from, int32_t to,
                 int64_t now_ms) {
  if (!policy.behavior || from == to) return;
  const bool up = to > from;
  const ScalingRules& rules = up ? policy.behavior->scale_up : policy.behavior->scale_down;
  int64_t longest = 0;
  for (const ScalingPolicy& p : rules.policies) longest = std::max(longest, p.period_s);
  auto& events = up ? history.up_events : history.down_events;
  std::erase_if(events, [&](const ScaleEvent& e) { return e.at_ms <= now_ms - longest * 1000; });
  events.push_back({now_ms, std::abs(to - from)});
}

}  // namespace noa::controller::autoscale
