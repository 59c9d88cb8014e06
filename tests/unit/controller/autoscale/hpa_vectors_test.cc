// The 12 test vectors of ../shared/reference/hpa-probes-consul-sentinel.md section 1.6 (the
// same numbers hpa_vectors_check.py checks), against the real decision code.

#include <gtest/gtest.h>

#include "controller/autoscale/autoscale_decision.h"
#include "tests/unit/controller/autoscale/autoscale_test_util.h"

namespace noa::controller::autoscale {
namespace {

using namespace testing;

CalcContext ctxFor(int32_t current) {
  CalcContext c;
  c.current_replicas = current;
  c.status_replicas = current;
  c.now_ms = kNow;
  return c;
}

TEST(HpaVectors, V1PlainScaleUp) {
  std::vector<ReplicaSample> rs = {cpuReplica("a", 450, 500), cpuReplica("b", 400, 500),
                                   cpuReplica("c", 500, 500)};
  MetricProposal p = proposeReplicas(cpuUtilization(50), rs, std::nullopt, ctxFor(3));
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.current, 90);
  EXPECT_DOUBLE_EQ(p.ratio, 1.8);
  EXPECT_EQ(p.replicas, 6);
}

TEST(HpaVectors, V2InsideTolerance) {
  std::vector<ReplicaSample> rs(4, cpuReplica("a", 540));
  MetricProposal p = proposeReplicas(cpuUtilization(50), rs, std::nullopt, ctxFor(4));
  EXPECT_EQ(p.replicas, 4);
  EXPECT_EQ(p.note, "within tolerance");
}

TEST(HpaVectors, V3RatioExactlyOnePointOneIsInsideTheBand) {
  std::vector<ReplicaSample> rs(2, cpuReplica("a", 1100));
  MetricProposal p = proposeReplicas(cpuUtilization(100), rs, std::nullopt, ctxFor(2));
  EXPECT_DOUBLE_EQ(p.ratio, 1.1);
  EXPECT_EQ(p.replicas, 2);  // v1.33+ band; the v1.32 abs() test would give 3
}

TEST(HpaVectors, V4MissingMetricOnScaleDownCountsAsFullUse) {
  std::vector<ReplicaSample> rs = {cpuReplica("a", 100), cpuReplica("b", 100), cpuReplica("c", 100),
                                   noMetrics("d")};
  MetricProposal p = proposeReplicas(cpuUtilization(50), rs, std::nullopt, ctxFor(4));
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.missing, 1u);
  EXPECT_DOUBLE_EQ(p.ratio, 0.64);
  EXPECT_EQ(p.replicas, 3);  // not the naive 1
}

TEST(HpaVectors, V5PendingReplicasCannotFlipAScaleUpIntoAScaleDown) {
  std::vector<ReplicaSample> rs = {cpuReplica("a", 650), cpuReplica("b", 650), cpuReplica("c", 650),
                                   pending("d"),         pending("e"),         pending("f")};
  MetricProposal p = proposeReplicas(cpuUtilization(50), rs, std::nullopt, ctxFor(6));
  EXPECT_EQ(p.unready, 3u);
  EXPECT_DOUBLE_EQ(p.ratio, 0.64);
  EXPECT_EQ(p.replicas, 6);
  EXPECT_EQ(p.note, "direction flipped once missing/unready replicas are counted");
}

TEST(HpaVectors, V6MaxOverMetricsThenLegacyScaleUpLimit) {
  AutoscalePolicy policy;
  policy.min_replicas = 1;
  policy.max_replicas = 30;
  policy.metrics = {cpuUtilization(50),
                    {MetricSourceType::kPods, "rps", MetricTargetType::kAverageValue, 100, ""},
                    {MetricSourceType::kExternal, "queue", MetricTargetType::kValue, 50, ""}};
  ObservedState s;
  s.current_replicas = 4;
  for (int i = 0; i < 4; ++i) {
    ReplicaSample r = cpuReplica("r" + std::to_string(i), 300);
    r.metrics["rps"] = 150;
    s.replicas.push_back(r);
  }
  s.external["external/queue"] = 250;
  AutoscaleDecision d = decideScale(s, policy, {}, kNow);
  ASSERT_EQ(d.proposals.size(), 3u);
  EXPECT_EQ(d.proposals[0].replicas, 3);
  EXPECT_EQ(d.proposals[1].replicas, 6);
  EXPECT_EQ(d.proposals[2].replicas, 20);
  EXPECT_EQ(d.metric_desired, 20);
  EXPECT_EQ(d.metric, "external/queue");
  EXPECT_EQ(d.desired, 8);
  EXPECT_EQ(d.scaling_limited.status, "True");
  EXPECT_EQ(d.scaling_limited.reason, "ScaleUpLimit");
  EXPECT_EQ(d.scaling_active.reason, "ValidMetricFound");
  EXPECT_EQ(d.action, "scale_up");
  EXPECT_EQ(d.limiting_rule, "ScaleUpLimit: max(2 x current, 4) = 8");
}

TEST(HpaVectors, V7DefaultScaleUpRatePolicies) {
  AutoscalePolicy policy = wantPolicy(1, 50);
  policy.behavior = Behavior{defaultScaleUpRules(), defaultScaleDownRules()};
  AutoscaleDecision a = decideScale(wanting(2, 20), policy, {}, kNow);
  EXPECT_EQ(a.desired, 6);  // Pods 4 -> 6, Percent 100 -> 4, Max
  EXPECT_EQ(a.scaling_limited.reason, "ScaleUpLimit");
  AutoscaleHistory h = a.history;
  recordScale(h, policy, 2, 6, kNow);

  AutoscaleDecision c = decideScale(wanting(6, 20), policy, h, kNow + 10'000);
  EXPECT_EQ(c.desired, 6);  // the +4 event still counts: start 2, limit 6
  EXPECT_EQ(c.action, "limited");

  AutoscaleDecision b = decideScale(wanting(6, 20), policy, h, kNow + 16'000);
  EXPECT_EQ(b.desired, 12);  // the event expired: start 6, max(10, 12)
}

TEST(HpaVectors, V8LegacyDownscaleStabilization) {
  AutoscalePolicy policy = wantPolicy(1, 20);
  AutoscaleHistory h;
  h.recommendations = {{kNow - 290'000, 10}, {kNow - 200'000, 8}, {kNow - 100'000, 6}};
  AutoscaleDecision a = decideScale(wanting(10, 3), policy, h, kNow);
  EXPECT_EQ(a.desired, 10);
  EXPECT_EQ(a.able_to_scale.reason, "ScaleDownStabilized");
  AutoscaleDecision b = decideScale(wanting(10, 3), policy, a.history, kNow + 15'000);
  EXPECT_EQ(b.desired, 8);
  EXPECT_EQ(b.action, "scale_down");
}

TEST(HpaVectors, V9ScaleDownPolicies) {
  AutoscalePolicy policy = wantPolicy(1, 200);
  ScalingRules down{0,
                    SelectPolicy::kMax,
                    {{ScalingPolicyType::kPods, 4, 60}, {ScalingPolicyType::kPercent, 10, 60}}};
  policy.behavior = Behavior{defaultScaleUpRules(), down};
  AutoscaleDecision max = decideScale(wanting(100, 50), policy, {}, kNow);
  EXPECT_EQ(max.desired, 90);
  EXPECT_EQ(max.scaling_limited.reason, "ScaleDownLimit");

  policy.behavior->scale_down.select = SelectPolicy::kMin;
  EXPECT_EQ(decideScale(wanting(100, 50), policy, {}, kNow).desired, 96);

  policy.behavior->scale_down = {
      0,
      SelectPolicy::kMax,
      {{ScalingPolicyType::kPods, 1, 60}, {ScalingPolicyType::kPercent, 10, 60}}};
  EXPECT_EQ(decideScale(wanting(15, 1), policy, {}, kNow).desired, 13);  // trunc(13.5)
}

TEST(HpaVectors, V10ScaleUpStabilizationWindow) {
  AutoscalePolicy policy = wantPolicy(1, 50);
  ScalingRules up = defaultScaleUpRules();
  up.stabilization_window_s = 60;
  policy.behavior = Behavior{up, defaultScaleDownRules()};
  AutoscaleHistory h;
  h.recommendations = {{kNow - 50'000, 5}, {kNow - 30'000, 9}};
  AutoscaleDecision d = decideScale(wanting(4, 12), policy, h, kNow);
  EXPECT_EQ(d.stabilized, 5);
  EXPECT_EQ(d.desired, 5);
  EXPECT_EQ(d.able_to_scale.reason, "ScaleUpStabilized");
}

TEST(HpaVectors, V11ExternalAverageValueAndScaleFromZero) {
  MetricSpec avg{MetricSourceType::kExternal, "q", MetricTargetType::kAverageValue, 50, ""};
  EXPECT_EQ(proposeReplicas(avg, {}, 250, ctxFor(2)).replicas, 5);

  AutoscalePolicy policy;
  policy.min_replicas = 0;
  policy.max_replicas = 10;
  policy.metrics = {{MetricSourceType::kExternal, "q", MetricTargetType::kValue, 50, "queue"}};
  ObservedState s;
  s.current_replicas = 0;
  s.external["external/q"] = 120;
  AutoscaleDecision d = decideScale(s, policy, {}, kNow);
  EXPECT_EQ(d.proposals.at(0).replicas, 3);
  EXPECT_EQ(d.proposals.at(0).note, "scale from zero");
  EXPECT_EQ(d.desired, 3);
  EXPECT_EQ(d.action, "scale_up");
}

TEST(HpaVectors, V12AboveMaxWithoutMetricsAndZeroReplicasDisabled) {
  AutoscalePolicy policy = wantPolicy(1, 10);
  ObservedState above;
  above.current_replicas = 12;  // and no metric at all
  AutoscaleDecision d = decideScale(above, policy, {}, kNow);
  EXPECT_EQ(d.desired, 10);
  EXPECT_TRUE(d.proposals.empty());
  EXPECT_EQ(d.scaling_limited.reason, "TooManyReplicas");

  ObservedState zero;
  zero.current_replicas = 0;
  zero.external["external/want"] = 5;
  AutoscaleDecision z = decideScale(zero, policy, {}, kNow);
  EXPECT_EQ(z.desired, 0);
  EXPECT_FALSE(z.rescale);
  EXPECT_EQ(z.scaling_active.status, "False");
  EXPECT_EQ(z.scaling_active.reason, "ScalingDisabled");
}

}  // namespace
}  // namespace noa::controller::autoscale
