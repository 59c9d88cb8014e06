// Decision behaviour beyond the reference vectors: no flapping on oscillating load, replicas
// without metrics or not ready, scale from zero, metric and scale-read failures. Time is a
// FakeClock advanced tick by tick.

#include "controller/autoscale/autoscale_decision.h"

#include <gtest/gtest.h>

#include "controller/autoscale/autoscale_record.h"
#include "tests/testing/fake_clock.h"
#include "tests/unit/controller/autoscale/autoscale_test_util.h"

namespace noa::controller::autoscale {
namespace {

using namespace testing;
using noa::testing::FakeClock;

int64_t msOf(const FakeClock& clock) {
  return std::chrono::duration_cast<Millis>(clock.now().time_since_epoch()).count();
}

// Total CPU (cores) spread evenly over `current` replicas with a 1-core limit each.
ObservedState cpuLoad(int32_t current, double total_cores, int64_t now_ms) {
  ObservedState s;
  s.current_replicas = current;
  for (int i = 0; i < current; ++i) {
    ReplicaSample r;
    r.id = "r" + std::to_string(i);
    r.started_ms = now_ms - 3'600'000;
    r.ready_transition_ms = now_ms - 3'590'000;
    r.sample_ms = now_ms;
    r.metrics["cpu_usage_cores"] = total_cores / current;
    r.metrics["cpu_limit_cores"] = 1.0;
    s.replicas.push_back(r);
  }
  return s;
}

class OscillatingLoad : public ::testing::TestWithParam<bool> {};

TEST_P(OscillatingLoad, ScalesUpOnceAndNeverFlapsInsideTheStabilizationWindow) {
  AutoscalePolicy policy;
  policy.service = "mcp";
  policy.min_replicas = 2;
  policy.max_replicas = 10;
  policy.metrics = {cpuUtilization(50)};
  if (GetParam()) policy.behavior = Behavior{defaultScaleUpRules(), defaultScaleDownRules()};
  FakeClock clock;
  AutoscaleHistory history;
  int32_t current = 4;
  std::vector<std::pair<int64_t, int32_t>> changes;
  const int64_t start = msOf(clock);
  for (int tick = 0; tick < 900; ++tick) {          // 15 minutes of 1 s ticks
    const double load = tick % 2 == 0 ? 3.0 : 1.0;  // 75 % / 25 % of 4 cores, every second
    const int64_t now = msOf(clock);
    AutoscaleDecision d = decideScale(cpuLoad(current, load, now), policy, history, now);
    history = d.history;
    if (d.rescale) {
      recordScale(history, policy, current, d.desired, now);
      changes.emplace_back(now - start, d.desired);
      current = d.desired;
    }
    clock.advance(std::chrono::seconds(1));
  }
  ASSERT_EQ(changes.size(), 1u) << "flapped";
  EXPECT_EQ(changes[0].first, 0);
  EXPECT_EQ(changes[0].second, 6);
}

INSTANTIATE_TEST_SUITE_P(LegacyAndBehavior, OscillatingLoad, ::testing::Values(false, true));

TEST(AutoscaleDecision, SustainedLowLoadScalesDownOnlyAfterTheWindow) {
  AutoscalePolicy policy = wantPolicy(1, 10);
  FakeClock clock;
  AutoscaleHistory history;
  int32_t current = 6;
  int64_t first_down = -1;
  const int64_t start = msOf(clock);
  for (int tick = 0; tick < 400 && first_down < 0; ++tick) {
    const int64_t now = msOf(clock);
    AutoscaleDecision d = decideScale(wanting(current, 2), policy, history, now);
    history = d.history;
    if (d.rescale) {
      first_down = now - start;
      current = d.desired;
    }
    clock.advance(std::chrono::seconds(1));
  }
  // The first evaluation remembers the current 6 as a recommendation (Kubernetes does the same
  // for a new HPA), so the legacy 300 s window holds it that long.
  EXPECT_EQ(first_down, 301'000);
  EXPECT_EQ(current, 2);
}

TEST(AutoscaleDecision, ReplicaWithoutMetricsCountsAsIdleOnAScaleUp) {
  std::vector<ReplicaSample> rs = {cpuReplica("a", 1000), cpuReplica("b", 1000),
                                   cpuReplica("c", 1000), noMetrics("d")};
  CalcContext ctx;
  ctx.current_replicas = 4;
  ctx.now_ms = kNow;
  MetricProposal p = proposeReplicas(cpuUtilization(50), rs, std::nullopt, ctx);
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.missing, 1u);
  EXPECT_DOUBLE_EQ(p.ratio, 1.5);  // 3000m of 4000m = 75 %
  EXPECT_EQ(p.replicas, 6);
}

TEST(AutoscaleDecision, WarmingUpReplicaIsUnreadyForCpuButCountsForMemory) {
  ReplicaSample warm = cpuReplica("w", 900);
  warm.started_ms = kNow - 60'000;  // inside the 5 min CPU initialization period
  warm.ready = false;
  warm.ready_transition_ms = kNow - 60'000;
  warm.metrics["memory_usage_ratio"] = 0.5;
  ReplicaSample steady = cpuReplica("s", 500);
  steady.metrics["memory_usage_ratio"] = 0.5;
  CalcContext ctx;
  ctx.current_replicas = 2;
  ctx.now_ms = kNow;
  MetricProposal cpu = proposeReplicas(cpuUtilization(50), {warm, steady}, std::nullopt, ctx);
  EXPECT_EQ(cpu.unready, 1u);
  EXPECT_EQ(cpu.ready, 1u);
  EXPECT_EQ(cpu.replicas, 2);  // only the steady one: 50 % = target
  MetricSpec mem{MetricSourceType::kResource, "memory", MetricTargetType::kUtilization, 80, ""};
  MetricProposal m = proposeReplicas(mem, {warm, steady}, std::nullopt, ctx);
  EXPECT_EQ(m.ready, 2u);
}

TEST(AutoscaleDecision, NoScaleDownWhileAnotherMetricFails) {
  AutoscalePolicy policy;
  policy.service = "svc";
  policy.max_replicas = 10;
  policy.metrics = {cpuUtilization(50),
                    {MetricSourceType::kPods, "rps", MetricTargetType::kAverageValue, 100, ""}};
  ObservedState s = cpuLoad(4, 0.4, kNow);  // 10 %: CPU alone would scale down
  AutoscaleDecision d = decideScale(s, policy, {}, kNow);
  EXPECT_EQ(d.action, "error");
  EXPECT_EQ(d.desired, 4);
  EXPECT_EQ(d.scaling_active.status, "False");
  EXPECT_EQ(d.scaling_active.reason, "FailedGetPodsMetric");

  ObservedState hot = cpuLoad(4, 4.0, kNow);  // 100 %: a scale-up goes ahead regardless
  AutoscaleDecision up = decideScale(hot, policy, {}, kNow);
  EXPECT_EQ(up.action, "scale_up");
  EXPECT_EQ(up.desired, 8);
  EXPECT_EQ(up.scaling_active.reason, "ValidMetricFound");
}

TEST(AutoscaleDecision, UnknownCurrentReplicasIsFailedGetScale) {
  ObservedState s;
  s.scale_error = "connection refused";
  AutoscaleDecision d = decideScale(s, wantPolicy(1, 5), {}, kNow);
  EXPECT_EQ(d.action, "error");
  EXPECT_EQ(d.able_to_scale.status, "False");
  EXPECT_EQ(d.able_to_scale.reason, "FailedGetScale");
}

TEST(AutoscaleDecision, ScaleFromZeroWithAnExternalMetricOfAnotherService) {
  AutoscalePolicy policy;
  policy.service = "worker";
  policy.min_replicas = 0;
  policy.max_replicas = 8;
  policy.metrics = {
      {MetricSourceType::kExternal, "queue_depth", MetricTargetType::kValue, 10, "queue"}};
  ObservedState idle;
  idle.current_replicas = 0;
  idle.external["external/queue_depth"] = 0;
  EXPECT_EQ(decideScale(idle, policy, {}, kNow).desired, 0);
  ObservedState busy;
  busy.current_replicas = 0;
  busy.external["external/queue_depth"] = 35;
  AutoscaleDecision d = decideScale(busy, policy, {}, kNow);
  EXPECT_EQ(d.desired, 4);  // legacy limit max(2 x 0, 4) = 4 = ceil(3.5)
  EXPECT_EQ(d.action, "scale_up");
  ObservedState gone;  // nobody reports the metric: no guessing
  gone.current_replicas = 0;
  AutoscaleDecision e = decideScale(gone, policy, {}, kNow);
  EXPECT_EQ(e.action, "error");
  EXPECT_EQ(e.scaling_active.reason, "FailedGetExternalMetric");
}

TEST(AutoscaleRecord, CarriesProposalsLimitingRuleAndConditions) {
  AutoscalePolicy policy = wantPolicy(1, 3);
  AutoscaleDecision d = decideScale(wanting(2, 9), policy, {}, kNow);
  decisions::DecisionRecord r = toDecisionRecord(policy, wanting(2, 9), d, "dry_run");
  EXPECT_EQ(r.kind, "autoscale");
  EXPECT_EQ(r.action, "scale_up");
  EXPECT_EQ(r.service, "svc");
  EXPECT_NE(r.reason.find("(dry run: not actuated)"), std::string::npos) << r.reason;
  EXPECT_EQ(r.inputs["mode"], "dry_run");
  EXPECT_EQ(r.inputs["path"], "legacy");
  EXPECT_EQ(r.outcome["desired_replicas"], 3);
  EXPECT_EQ(r.outcome["metric_desired"], 9);
  EXPECT_EQ(r.outcome["limiting_rule"], "TooManyReplicas: max_replicas 3");
  EXPECT_EQ(r.outcome["proposals"][0]["replicas"], 9);
  EXPECT_EQ(r.outcome["conditions"]["ScalingLimited"]["reason"], "TooManyReplicas");
  EXPECT_EQ(r.outcome["conditions"]["AbleToScale"]["status"], "True");
  EXPECT_EQ(r.reason.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace noa::controller::autoscale
