// Names of the autoscale policy's enums as they appear in the policy file, decision records
// and the REST API, and the Kubernetes behavior defaults.

#include "controller/autoscale/autoscale_policy.h"

namespace noa::controller::autoscale {

std::string_view metricSourceTypeName(MetricSourceType type) {
  switch (type) {
    case MetricSourceType::kResource:
      return "resource";
    case MetricSourceType::kPods:
      return "pods";
    case MetricSourceType::kExternal:
      return "external";
  }
  return "";
}

std::string_view metricTargetTypeName(MetricTargetType type) {
  switch (type) {
    case MetricTargetType::kUtilization:
      return "utilization";
    case MetricTargetType::kAverageValue:
      return "average_value";
    case MetricTargetType::kValue:
      return "value";
  }
  return "";
}

std::string MetricSpec::label() const {
  if (type == MetricSourceType::kResource) return name;
  return std::string(metricSourceTypeName(type)) + "/" + name;
}

std::string_view selectPolicyName(SelectPolicy select) {
  switch (select) {
    case SelectPolicy::kMax:
      return "Max";
    case SelectPolicy::kMin:
      return "Min";
    case SelectPolicy::kDisabled:
      return "Disabled";
  }
  return "";
}

std::string ScalingPolicy::describe() const {
  return std::string(type == ScalingPolicyType::kPods ? "Pods " : "Percent ") +
         std::to_string(value) + " per " + std::to_string(period_s) + "s";
}

ScalingRules defaultScaleUpRules(double tolerance) {
  return {0,
          SelectPolicy::kMax,
          {{ScalingPolicyType::kPods, 4, 15}, {ScalingPolicyType::kPercent, 100, 15}},
          tolerance};
}

ScalingRules defaultScaleDownRules(double tolerance, int64_t window_s) {
  return {window_s, SelectPolicy::kMax, {{ScalingPolicyType::kPercent, 100, 15}}, tolerance};
}

std::string_view actuatorTypeName(ActuatorType type) {
  switch (type) {
    case ActuatorType::kNone:
      return "none";
    case ActuatorType::kExec:
      return "exec";
    case ActuatorType::kCompose:
      return "compose";
    case ActuatorType::kKubernetes:
      return "kubernetes";
    case ActuatorType::kLocal:
      return "local";
  }
  return "";
}

std::optional<ActuatorType> parseActuatorType(std::string_view name) {
  for (ActuatorType t : {ActuatorType::kNone, ActuatorType::kExec, ActuatorType::kCompose,
                         ActuatorType::kKubernetes, ActuatorType::kLocal}) {
    if (actuatorTypeName(t) == name) return t;
  }
  return std::nullopt;
}

}  // namespace noa::controller::autoscale
