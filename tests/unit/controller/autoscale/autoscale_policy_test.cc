#include "controller/autoscale/autoscale_policy.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/testing/status_matchers.h"

namespace noa::controller::autoscale {
namespace {

constexpr const char* kFile = R"(
services:
  postgres:
    backups:
      - {name: nightly, kind: pg_dump}
  mcp:
    autoscale:
      min_replicas: 2
      max_replicas: 10
  claude-flow:
    autoscale:
      min_replicas: 2
      max_replicas: 8
      tolerance: 0.05
      dry_run: true
      metrics:
        - cpu: 60
        - memory: {utilization: 75}
        - pods: {name: http_requests_per_second, average_value: 100}
        - external: {name: queue_depth, value: 50, from_service: queue}
      behavior:
        scaleUp:
          stabilizationWindowSeconds: 30
        scaleDown:
          selectPolicy: Min
          policies:
            - {type: Pods, value: 1, periodSeconds: 60}
            - {type: Percent, value: 10, periodSeconds: 1m}
      actuator: {type: compose, project: noa}
  ui-dashboard:
    autoscale:
      min_replicas: 3
      max_replicas: 15
      actuator:
        type: kubernetes
        namespace: prod
        kind: statefulset
)";

TEST(AutoscalePolicy, ReadsEveryAutoscaleSectionWithDefaults) {
  auto parsed = parseAutoscalePolicies(kFile);
  ASSERT_OK(parsed.status());
  ASSERT_EQ(parsed->services.size(), 3u);
  EXPECT_EQ(parsed->find("postgres"), nullptr);

  const AutoscalePolicy* mcp = parsed->find("mcp");
  ASSERT_NE(mcp, nullptr);
  EXPECT_EQ(mcp->min_replicas, 2);
  EXPECT_EQ(mcp->max_replicas, 10);
  ASSERT_EQ(mcp->metrics.size(), 2u);  // seed defaults: CPU 70 %, memory 80 %
  EXPECT_EQ(mcp->metrics[0].label(), "cpu");
  EXPECT_EQ(mcp->metrics[0].target, 70);
  EXPECT_EQ(mcp->metrics[1].label(), "memory");
  EXPECT_EQ(mcp->metrics[1].target, 80);
  EXPECT_FALSE(mcp->behavior.has_value());  // legacy path
  EXPECT_EQ(mcp->actuator.type, ActuatorType::kNone);
  EXPECT_DOUBLE_EQ(mcp->tolerance, 0.1);

  const AutoscalePolicy* flow = parsed->find("claude-flow");
  ASSERT_NE(flow, nullptr);
  EXPECT_TRUE(flow->dry_run);
  ASSERT_EQ(flow->metrics.size(), 4u);
  EXPECT_EQ(flow->metrics[2].label(), "pods/http_requests_per_second");
  EXPECT_EQ(flow->metrics[2].target_type, MetricTargetType::kAverageValue);
  EXPECT_EQ(flow->metrics[3].target_type, MetricTargetType::kValue);
  EXPECT_EQ(flow->metrics[3].from_service, "queue");
  ASSERT_TRUE(flow->behavior.has_value());
  // Partial behavior: what is missing takes Kubernetes' v2 defaults.
  EXPECT_EQ(flow->behavior->scale_up.stabilization_window_s, 30);
  EXPECT_EQ(flow->behavior->scale_up.policies, defaultScaleUpRules().policies);
  EXPECT_DOUBLE_EQ(flow->behavior->scale_up.tolerance, 0.05);
  EXPECT_EQ(flow->behavior->scale_down.stabilization_window_s, 300);
  EXPECT_EQ(flow->behavior->scale_down.select, SelectPolicy::kMin);
  ASSERT_EQ(flow->behavior->scale_down.policies.size(), 2u);
  EXPECT_EQ(flow->behavior->scale_down.policies[1].period_s, 60);
  EXPECT_EQ(flow->actuator.type, ActuatorType::kCompose);
  EXPECT_EQ(flow->actuator.compose_service, "claude-flow");

  const AutoscalePolicy* ui = parsed->find("ui-dashboard");
  ASSERT_NE(ui, nullptr);
  EXPECT_EQ(ui->actuator.type, ActuatorType::kKubernetes);
  EXPECT_EQ(ui->actuator.k8s_namespace, "prod");
  EXPECT_EQ(ui->actuator.workload_kind, "statefulsets");
  EXPECT_EQ(ui->actuator.workload_name, "ui-dashboard");
}

void expectError(const std::string& yaml, const std::string& message) {
  auto parsed = parseAutoscalePolicies(yaml);
  ASSERT_FALSE(parsed.ok()) << yaml;
  EXPECT_EQ(parsed.status().message(), message);
}

TEST(AutoscalePolicy, ErrorsNameTheYamlPath) {
  expectError("services:\n  mcp:\n    autoscale:\n      min_replicas: 2\n",
              "services.mcp.autoscale.max_replicas: required (line 4)");
  expectError("services:\n  mcp:\n    autoscale: {max_replicas: 3, min_replica: 1}\n",
              "services.mcp.autoscale: unknown key 'min_replica' (known: min_replicas, "
              "max_replicas, metrics, tolerance, behavior, actuator, dry_run, enabled, "
              "downscale_stabilization, cpu_initialization_period, initial_readiness_delay) "
              "(line 3)");
  expectError("services:\n  mcp:\n    autoscale: {min_replicas: 5, max_replicas: 3}\n",
              "services.mcp.autoscale.min_replicas: 5 is above max_replicas 3 (line 3)");
  expectError("services:\n  mcp:\n    autoscale: {min_replicas: 0, max_replicas: 3}\n",
              "services.mcp.autoscale.min_replicas: 0 needs an external metric (nothing else is "
              "measured at zero replicas) (line 3)");
  expectError(
      "services:\n  mcp:\n    autoscale:\n      max_replicas: 3\n      metrics:\n"
      "        - gpu: 50\n",
      "services.mcp.autoscale.metrics[0]: unknown metric source 'gpu' (known: cpu, "
      "memory, pods, external) (line 6)");
  expectError(
      "services:\n  mcp:\n    autoscale:\n      max_replicas: 3\n      behavior:\n"
      "        scaleDown: {selectPolicy: Biggest}\n",
      "services.mcp.autoscale.behavior.scaleDown.selectPolicy: unknown 'Biggest' "
      "(known: Max, Min, Disabled) (line 6)");
  expectError(
      "services:\n  mcp:\n    autoscale:\n      max_replicas: 3\n      behavior:\n"
      "        scaleUp:\n          policies: [{type: Pods, value: 4}]\n",
      "services.mcp.autoscale.behavior.scaleUp.policies[0].periodSeconds: required "
      "(line 7)");
  expectError(
      "services:\n  mcp:\n    autoscale:\n      max_replicas: 3\n"
      "      actuator: {type: helm}\n",
      "services.mcp.autoscale.actuator.type: unknown actuator 'helm' (known: none, exec, "
      "compose, kubernetes, local) (line 5)");
  expectError(
      "services:\n  mcp:\n    autoscale:\n      max_replicas: 3\n"
      "      actuator: {type: exec}\n",
      "services.mcp.autoscale.actuator.command: required for exec (line 5)");
}

TEST(AutoscalePolicy, LoadFilePrefixesThePath) {
  const std::string path = ::testing::TempDir() + "/autoscale_policy.yaml";
  std::ofstream(path) << "services:\n  mcp:\n    autoscale: {max_replicas: zero}\n";
  auto loaded = loadAutoscalePolicies(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().message(),
            "policy file '" + path +
                "': services.mcp.autoscale.max_replicas: 'zero' must be a whole number 1-100000 "
                "(line 3)");
  std::ofstream(path) << "services:\n  mcp:\n    autoscale: {max_replicas: 4}\n";
  auto ok = loadAutoscalePolicies(path);
  ASSERT_OK(ok.status());
  EXPECT_EQ(ok->path, path);
  EXPECT_EQ(loadAutoscalePolicies(path + ".missing").status().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace noa::controller::autoscale
