#pragma once

// Per-service autoscale policies: the `autoscale:` section of each service in the controller's
// policy file (the same file controller/backups/backup_policy.h reads; that reader skips this
// section and this one skips everything else). The shape follows Kubernetes' autoscaling/v2
// HorizontalPodAutoscaler spec, so a policy reads like an HPA; the keys, defaults and errors are
// in schemas/policy.md ("Autoscaling").
//
// Defaults: min_replicas 1, tolerance 0.1 both ways, metrics CPU 70 % + memory 80 % (the
// deployment's seeds; Kubernetes' own default is CPU 80 % alone). Without `behavior` the legacy
// HPA path applies (300 s scale-down stabilization, scale-up at most max(2 x current, 4) per
// evaluation); with a partial `behavior` the missing parts take Kubernetes' v2 defaults.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace noa::controller::autoscale {

inline constexpr double kDefaultTolerance = 0.1;
inline constexpr double kDefaultCpuUtilization = 70;
inline constexpr double kDefaultMemoryUtilization = 80;
inline constexpr int64_t kDefaultDownscaleStabilizationS = 300;
inline constexpr int64_t kDefaultCpuInitializationPeriodS = 300;
inline constexpr int64_t kDefaultInitialReadinessDelayS = 30;

enum class MetricSourceType { kResource, kPods, kExternal };
enum class MetricTargetType { kUtilization, kAverageValue, kValue };

std::string_view metricSourceTypeName(MetricSourceType type);  // "resource" | "pods" | "external"
std::string_view metricTargetTypeName(MetricTargetType type);  // "utilization" | ...

struct MetricSpec {
  MetricSourceType type = MetricSourceType::kResource;
  // resource: "cpu" | "memory"; pods and external: the reported metric name.
  std::string name;
  MetricTargetType target_type = MetricTargetType::kUtilization;
  // Utilization: percent of the replica's limit; AverageValue: per replica; Value: total.
  double target = 0;
  // external only: the service whose agents report the metric (default: this service). Another
  // service (a queue, a load balancer) lets a service scale up from zero replicas.
  std::string from_service;

  // "cpu", "memory", "pods/<name>", "external/<name>": how decisions name the metric.
  std::string label() const;
  bool operator==(const MetricSpec&) const = default;
};

enum class ScalingPolicyType { kPods, kPercent };
enum class SelectPolicy { kMax, kMin, kDisabled };
std::string_view selectPolicyName(SelectPolicy select);  // "Max" | "Min" | "Disabled"

struct ScalingPolicy {
  ScalingPolicyType type = ScalingPolicyType::kPods;
  int32_t value = 1;
  int64_t period_s = 15;
  std::string describe() const;  // "Pods 4 per 15s"
  bool operator==(const ScalingPolicy&) const = default;
};

struct ScalingRules {
  int64_t stabilization_window_s = 0;
  SelectPolicy select = SelectPolicy::kMax;
  std::vector<ScalingPolicy> policies;
  double tolerance = kDefaultTolerance;
  bool operator==(const ScalingRules&) const = default;
};

struct Behavior {
  ScalingRules scale_up;
  ScalingRules scale_down;
  bool operator==(const Behavior&) const = default;
};

// Kubernetes' v2 defaults: up {window 0, Max, Pods 4/15 s, Percent 100/15 s}, down {window 300 s,
// Max, Percent 100/15 s}.
ScalingRules defaultScaleUpRules(double tolerance = kDefaultTolerance);
ScalingRules defaultScaleDownRules(double tolerance = kDefaultTolerance,
                                   int64_t window_s = kDefaultDownscaleStabilizationS);

enum class ActuatorType { kNone, kExec, kCompose, kKubernetes, kLocal };
std::string_view actuatorTypeName(ActuatorType type);
std::optional<ActuatorType> parseActuatorType(std::string_view name);

struct ActuatorConfig {
  ActuatorType type = ActuatorType::kNone;
  int64_t timeout_ms = 30'000;
  // exec: argv to which SERVICE and N are appended. local: the replica command (argv), in which
  // "{index}" and "{port}" are replaced per replica.
  std::vector<std::string> command;
  // compose
  std::string project;
  std::string compose_service;  // default: the service name
  std::vector<std::string> compose_files;
  std::string docker = "docker";  // the docker CLI (PATH lookup)
  // kubernetes
  std::string api_server;     // default: in-cluster (KUBERNETES_SERVICE_HOST:PORT) or kubeconfig
  std::string k8s_namespace;  // default: the service account's namespace, else "default"
  std::string workload_kind = "deployments";  // "deployments" | "statefulsets"
  std::string workload_name;                  // default: the service name
  std::string token_file;                     // default: the in-cluster service-account token
  std::string ca_file;                        // default: the in-cluster CA
  std::string kubeconfig;                     // a kubeconfig file instead of in-cluster credentials
  // local
  std::vector<std::string> agent_command;  // argv of each replica's agent, same placeholders
  int32_t base_port = 0;                   // "{port}" = base_port + index
  std::string state_dir;                   // per-replica pid files and logs
};

struct AutoscalePolicy {
  std::string service;
  int32_t min_replicas = 1;
  int32_t max_replicas = 1;
  std::vector<MetricSpec> metrics;
  double tolerance = kDefaultTolerance;
  std::optional<Behavior> behavior;  // nullopt: the legacy path
  ActuatorConfig actuator;
  bool dry_run = false;
  bool enabled = true;
  int64_t downscale_stabilization_s = kDefaultDownscaleStabilizationS;  // legacy window
  int64_t cpu_initialization_period_s = kDefaultCpuInitializationPeriodS;
  int64_t initial_readiness_delay_s = kDefaultInitialReadinessDelayS;
};

struct AutoscalePolicies {
  std::string path;                       // "" when parsed from text
  std::vector<AutoscalePolicy> services;  // only services with an `autoscale:` section, by name
  const AutoscalePolicy* find(std::string_view service) const;
};

// Reads every `services.<name>.autoscale` of a policy-file text. InvalidArgument naming the
// YAML path, e.g. "services.mcp.autoscale.max_replicas: required (line 4)". Other sections are
// not read here (the backup reader validates them).
Result<AutoscalePolicies> parseAutoscalePolicies(std::string_view yaml_text);

// parseAutoscalePolicies of the file's contents; errors are prefixed "policy file 'PATH': ".
Result<AutoscalePolicies> loadAutoscalePolicies(const std::string& path);

}  // namespace noa::controller::autoscale
