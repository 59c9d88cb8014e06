#include "controller/autoscale/autoscale_policy.h"

#include "controller/policy/yaml_fields.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>

#include "common/duration.h"

namespace noa::controller::autoscale {
namespace {

constexpr int32_t kMaxReplicasLimit = 100'000;

using policy::invalid;
using policy::mapEntries;
using policy::scalar;

Result<double> number(const YAML::Node& node, const std::string& path, double min_exclusive) {
  NOA_ASSIGN_OR_RETURN(std::string text, scalar(node, path));
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(value)) {
    return invalid(node, path, "'" + text + "' is not a number");
  }
  if (value <= min_exclusive) {
    return invalid(node, path, "must be greater than " + std::to_string(int(min_exclusive)));
  }
  return value;
}

Result<int32_t> integer(const YAML::Node& node, const std::string& path, int32_t lo, int32_t hi) {
  NOA_ASSIGN_OR_RETURN(std::string text, scalar(node, path));
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < lo || value > hi) {
    return invalid(
        node, path,
        "'" + text + "' must be a whole number " + std::to_string(lo) + "-" + std::to_string(hi));
  }
  return static_cast<int32_t>(value);
}

Result<bool> boolean(const YAML::Node& node, const std::string& path) {
  NOA_ASSIGN_OR_RETURN(std::string text, scalar(node, path));
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return invalid(node, path, "'" + text + "' is not true or false");
}

// Durations as in the rest of the file ("15s", "5m"); a bare number is seconds, which is also
// what Kubernetes' *Seconds fields hold. `allow_zero` for windows (0 = no stabilization).
Result<int64_t> seconds(const YAML::Node& node, const std::string& path, bool allow_zero) {
  NOA_ASSIGN_OR_RETURN(std::string text, scalar(node, path));
  auto parsed = parseDuration(text);
  if (!parsed.ok()) return invalid(node, path, parsed.status().message());
  const int64_t ms = parsed->count();
  if (ms < 0 || (ms == 0 && !allow_zero)) return invalid(node, path, "must be greater than 0");
  if (ms % 1000 != 0) return invalid(node, path, "must be whole seconds");
  if (ms > 3'600'000) return invalid(node, path, "must be at most 1h (3600 s, as in Kubernetes)");
  return ms / 1000;
}

Result<std::vector<std::string>> stringList(const YAML::Node& node, const std::string& path) {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
    return out;
  }
  if (!node.IsSequence()) return invalid(node, path, "expected a list of strings");
  for (size_t i = 0; i < node.size(); ++i) {
    NOA_ASSIGN_OR_RETURN(std::string item, scalar(node[i], path + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(item));
  }
  return out;
}

Result<MetricSpec> resourceMetric(const YAML::Node& node, const std::string& path,
                                  const std::string& name) {
  MetricSpec m;
  m.type = MetricSourceType::kResource;
  m.name = name;
  if (node.IsScalar()) {  // "cpu: 70" is a utilization target
    NOA_ASSIGN_OR_RETURN(m.target, number(node, path, 0));
    return m;
  }
  NOA_ASSIGN_OR_RETURN(auto e, mapEntries(node, path, {"utilization", "average_value"}));
  if (e.size() != 1) return invalid(node, path, "give exactly one of utilization, average_value");
  if (e.count("utilization") != 0) {
    NOA_ASSIGN_OR_RETURN(m.target, number(e["utilization"], path + ".utilization", 0));
  } else {
    m.target_type = MetricTargetType::kAverageValue;
    NOA_ASSIGN_OR_RETURN(m.target, number(e["average_value"], path + ".average_value", 0));
  }
  return m;
}

Result<MetricSpec> namedMetric(const YAML::Node& node, const std::string& path, bool external) {
  MetricSpec m;
  m.type = external ? MetricSourceType::kExternal : MetricSourceType::kPods;
  m.target_type = MetricTargetType::kAverageValue;
  auto entries = external
                     ? mapEntries(node, path, {"name", "value", "average_value", "from_service"})
                     : mapEntries(node, path, {"name", "average_value"});
  NOA_RETURN_IF_ERROR(entries.status());
  auto& e = *entries;
  if (e.count("name") == 0) return invalid(node, path + ".name", "required");
  NOA_ASSIGN_OR_RETURN(m.name, scalar(e["name"], path + ".name"));
  if (m.name.empty()) return invalid(e["name"], path + ".name", "must not be empty");
  const bool value = e.count("value") != 0;
  const bool average = e.count("average_value") != 0;
  if (value == average) {
    return invalid(
        node, path,
        external ? "give exactly one of value, average_value" : "average_value required");
  }
  if (value) {
    m.target_type = MetricTargetType::kValue;
    NOA_ASSIGN_OR_RETURN(m.target, number(e["value"], path + ".value", 0));
  } else {
    NOA_ASSIGN_OR_RETURN(m.target, number(e["average_value"], path + ".average_value", 0));
  }
  if (e.count("from_service") != 0) {
    NOA_ASSIGN_OR_RETURN(m.from_service, scalar(e["from_service"], path + ".from_service"));
  }
  return m;
}

Result<MetricSpec> metric(const YAML::Node& node, const std::string& path) {
  if (!node.IsMap() || node.size() != 1) {
    return invalid(node, path,
                   "expected one of {cpu: N}, {memory: N}, {pods: {...}}, {external: {...}}");
  }
  const auto item = *node.begin();
  const std::string key = item.first.Scalar();
  const std::string sub = path + "." + key;
  if (key == "cpu" || key == "memory") return resourceMetric(item.second, sub, key);
  if (key == "pods") return namedMetric(item.second, sub, false);
  if (key == "external") return namedMetric(item.second, sub, true);
  return invalid(item.first, path,
                 "unknown metric source '" + key + "' (known: cpu, memory, pods, external)");
}

Result<ScalingRules> rules(const YAML::Node& node, const std::string& path, ScalingRules out) {
  NOA_ASSIGN_OR_RETURN(
      auto e, mapEntries(node, path,
                         {"stabilizationWindowSeconds", "selectPolicy", "policies", "tolerance"}));
  if (auto it = e.find("stabilizationWindowSeconds"); it != e.end()) {
    NOA_ASSIGN_OR_RETURN(out.stabilization_window_s,
                         seconds(it->second, path + ".stabilizationWindowSeconds", true));
  }
  if (auto it = e.find("selectPolicy"); it != e.end()) {
    NOA_ASSIGN_OR_RETURN(std::string text, scalar(it->second, path + ".selectPolicy"));
    if (text == "Max") {
      out.select = SelectPolicy::kMax;
    } else if (text == "Min") {
      out.select = SelectPolicy::kMin;
    } else if (text == "Disabled") {
      out.select = SelectPolicy::kDisabled;
    } else {
      return invalid(it->second, path + ".selectPolicy",
                     "unknown '" + text + "' (known: Max, Min, Disabled)");
    }
  }
  if (auto it = e.find("tolerance"); it != e.end()) {
    NOA_ASSIGN_OR_RETURN(out.tolerance, number(it->second, path + ".tolerance", -1e-300));
  }
  if (auto it = e.find("policies"); it != e.end()) {
    if (!it->second.IsSequence()) return invalid(it->second, path + ".policies", "expected a list");
    out.policies.clear();
    for (size_t i = 0; i < it->second.size(); ++i) {
      const std::string p = path + ".policies[" + std::to_string(i) + "]";
      NOA_ASSIGN_OR_RETURN(auto pe,
                           mapEntries(it->second[i], p, {"type", "value", "periodSeconds"}));
      for (const char* required : {"type", "value", "periodSeconds"}) {
        if (pe.count(required) == 0) return invalid(it->second[i], p + "." + required, "required");
      }
      ScalingPolicy policy;
      NOA_ASSIGN_OR_RETURN(std::string type, scalar(pe["type"], p + ".type"));
      if (type == "Pods") {
        policy.type = ScalingPolicyType::kPods;
      } else if (type == "Percent") {
        policy.type = ScalingPolicyType::kPercent;
      } else {
        return invalid(pe["type"], p + ".type", "unknown '" + type + "' (known: Pods, Percent)");
      }
      NOA_ASSIGN_OR_RETURN(policy.value, integer(pe["value"], p + ".value", 1, kMaxReplicasLimit));
      NOA_ASSIGN_OR_RETURN(policy.period_s,
                           seconds(pe["periodSeconds"], p + ".periodSeconds", false));
      out.policies.push_back(policy);
    }
    if (out.policies.empty() && out.select != SelectPolicy::kDisabled) {
      return invalid(it->second, path + ".policies",
                     "must not be empty (use selectPolicy: Disabled to stop scaling this way)");
    }
  }
  return out;
}

Result<ActuatorConfig> actuator(const YAML::Node& node, const std::string& path,
                                const std::string& service) {
  ActuatorConfig out;
  NOA_ASSIGN_OR_RETURN(
      auto e, mapEntries(node, path,
                         {"type", "timeout", "command", "project", "service", "files", "docker",
                          "api_server", "namespace", "kind", "name", "token_file", "ca_file",
                          "kubeconfig", "agent_command", "base_port", "state_dir"}));
  if (e.count("type") == 0) return invalid(node, path + ".type", "required");
  NOA_ASSIGN_OR_RETURN(std::string type, scalar(e["type"], path + ".type"));
  auto parsed = parseActuatorType(type);
  if (!parsed) {
    return invalid(
        e["type"], path + ".type",
        "unknown actuator '" + type + "' (known: none, exec, compose, kubernetes, local)");
  }
  out.type = *parsed;
  auto str = [&](const char* key, std::string& field) -> Status {
    if (auto it = e.find(key); it != e.end()) {
      NOA_ASSIGN_OR_RETURN(field, scalar(it->second, path + "." + key));
    }
    return Status::Ok();
  };
  auto list = [&](const char* key, std::vector<std::string>& field) -> Status {
    if (auto it = e.find(key); it != e.end()) {
      NOA_ASSIGN_OR_RETURN(field, stringList(it->second, path + "." + key));
    }
    return Status::Ok();
  };
  if (auto it = e.find("timeout"); it != e.end()) {
    NOA_ASSIGN_OR_RETURN(int64_t s, seconds(it->second, path + ".timeout", false));
    out.timeout_ms = s * 1000;
  }
  NOA_RETURN_IF_ERROR(list("command", out.command));
  NOA_RETURN_IF_ERROR(str("project", out.project));
  NOA_RETURN_IF_ERROR(str("service", out.compose_service));
  NOA_RETURN_IF_ERROR(list("files", out.compose_files));
  NOA_RETURN_IF_ERROR(str("docker", out.docker));
  NOA_RETURN_IF_ERROR(str("api_server", out.api_server));
  NOA_RETURN_IF_ERROR(str("namespace", out.k8s_namespace));
  NOA_RETURN_IF_ERROR(str("name", out.workload_name));
  NOA_RETURN_IF_ERROR(str("token_file", out.token_file));
  NOA_RETURN_IF_ERROR(str("ca_file", out.ca_file));
  NOA_RETURN_IF_ERROR(str("kubeconfig", out.kubeconfig));
  NOA_RETURN_IF_ERROR(list("agent_command", out.agent_command));
  NOA_RETURN_IF_ERROR(str("state_dir", out.state_dir));
  if (auto it = e.find("kind"); it != e.end()) {
    NOA_ASSIGN_OR_RETURN(std::string kind, scalar(it->second, path + ".kind"));
    if (kind == "deployment" || kind == "deployments" || kind == "Deployment") {
      out.workload_kind = "deployments";
    } else if (kind == "statefulset" || kind == "statefulsets" || kind == "StatefulSet") {
      out.workload_kind = "statefulsets";
    } else {
      return invalid(it->second, path + ".kind",
                     "unknown '" + kind + "' (known: deployment, statefulset)");
    }
  }
  if (auto it = e.find("base_port"); it != e.end()) {
    NOA_ASSIGN_OR_RETURN(out.base_port, integer(it->second, path + ".base_port", 1, 65535));
  }
  if (out.compose_service.empty()) out.compose_service = service;
  if (out.workload_name.empty()) out.workload_name = service;
  switch (out.type) {
    case ActuatorType::kExec:
    case ActuatorType::kLocal:
      if (out.command.empty()) return invalid(node, path + ".command", "required for " + type);
      break;
    case ActuatorType::kCompose:
      if (out.project.empty()) return invalid(node, path + ".project", "required for compose");
      break;
    default:
      break;
  }
  return out;
}

Result<AutoscalePolicy> servicePolicy(const YAML::Node& node, const std::string& path,
                                      const std::string& service) {
  AutoscalePolicy out;
  out.service = service;
  NOA_ASSIGN_OR_RETURN(
      auto e, mapEntries(node, path,
                         {"min_replicas", "max_replicas", "metrics", "tolerance", "behavior",
                          "actuator", "dry_run", "enabled", "downscale_stabilization",
                          "cpu_initialization_period", "initial_readiness_delay"}));
  if (e.count("max_replicas") == 0) return invalid(node, path + ".max_replicas", "required");
  NOA_ASSIGN_OR_RETURN(out.max_replicas,
                       integer(e["max_replicas"], path + ".max_replicas", 1, kMaxReplicasLimit));
  if (auto it = e.find("min_replicas"); it != e.end()) {
    // 0 is allowed (Kubernetes' HPAScaleToZero): it needs an external metric to wake up.
    NOA_ASSIGN_OR_RETURN(out.min_replicas,
                         integer(it->second, path + ".min_replicas", 0, kMaxReplicasLimit));
  }
  if (out.min_replicas > out.max_replicas) {
    return invalid(node, path + ".min_replicas",
                   std::to_string(out.min_replicas) + " is above max_replicas " +
                       std::to_string(out.max_replicas));
  }
  if (auto it = e.find("tolerance"); it != e.end()) {
    NOA_ASSIGN_OR_RETURN(out.tolerance, number(it->second, path + ".tolerance", -1e-300));
    if (out.tolerance >= 1) return invalid(it->second, path + ".tolerance", "must be below 1");
  }
  if (auto it = e.find("metrics"); it != e.end() && !it->second.IsNull()) {
    if (!it->second.IsSequence()) return invalid(it->second, path + ".metrics", "expected a list");
    for (size_t i = 0; i < it->second.size(); ++i) {
      NOA_ASSIGN_OR_RETURN(MetricSpec m,
                           metric(it->second[i], path + ".metrics[" + std::to_string(i) + "]"));
      out.metrics.push_back(std::move(m));
    }
  }
  if (out.metrics.empty()) {
    out.metrics.push_back({MetricSourceType::kResource, "cpu", MetricTargetType::kUtilization,
                           kDefaultCpuUtilization, ""});
    out.metrics.push_back({MetricSourceType::kResource, "memory", MetricTargetType::kUtilization,
                           kDefaultMemoryUtilization, ""});
  }
  bool has_object_metric = false;
  for (const MetricSpec& m : out.metrics)
    has_object_metric |= m.type == MetricSourceType::kExternal;
  if (out.min_replicas == 0 && !has_object_metric) {
    return invalid(node, path + ".min_replicas",
                   "0 needs an external metric (nothing else is measured at zero replicas)");
  }
  if (auto it = e.find("downscale_stabilization"); it != e.end()) {
    NOA_ASSIGN_OR_RETURN(out.downscale_stabilization_s,
                         seconds(it->second, path + ".downscale_stabilization", true));
  }
  if (auto it = e.find("cpu_initialization_period"); it != e.end()) {
    NOA_ASSIGN_OR_RETURN(out.cpu_initialization_period_s,
                         seconds(it->second, path + ".cpu_initialization_period", true));
  }
  if (auto it = e.find("initial_readiness_delay"); it != e.end()) {
    NOA_ASSIGN_OR_RETURN(out.initial_readiness_delay_s,
                         seconds(it->second, path + ".initial_readiness_delay", true));
  }
  if (auto it = e.find("behavior"); it != e.end() && !it->second.IsNull()) {
    const std::string bpath = path + ".behavior";
    NOA_ASSIGN_OR_RETURN(auto be, mapEntries(it->second, bpath, {"scaleUp", "scaleDown"}));
    Behavior behavior;
    NOA_ASSIGN_OR_RETURN(behavior.scale_up, rules(be["scaleUp"], bpath + ".scaleUp",
                                                  defaultScaleUpRules(out.tolerance)));
    NOA_ASSIGN_OR_RETURN(
        behavior.scale_down,
        rules(be["scaleDown"], bpath + ".scaleDown",
              defaultScaleDownRules(out.tolerance, out.downscale_stabilization_s)));
    out.behavior = std::move(behavior);
  }
  if (auto it = e.find("actuator"); it != e.end() && !it->second.IsNull()) {
    NOA_ASSIGN_OR_RETURN(out.actuator, actuator(it->second, path + ".actuator", service));
  }
  if (auto it = e.find("dry_run"); it != e.end()) {
    NOA_ASSIGN_OR_RETURN(out.dry_run, boolean(it->second, path + ".dry_run"));
  }
  if (auto it = e.find("enabled"); it != e.end()) {
    NOA_ASSIGN_OR_RETURN(out.enabled, boolean(it->second, path + ".enabled"));
  }
  return out;
}

Result<AutoscalePolicies> parseRoot(const YAML::Node& root) {
  AutoscalePolicies out;
  if (!root.IsDefined() || root.IsNull() || !root.IsMap())
    return out;  // the backup reader says why
  const YAML::Node services = root["services"];
  if (!services.IsDefined() || !services.IsMap()) return out;
  for (const auto& item : services) {
    if (!item.first.IsScalar() || !item.second.IsMap()) continue;
    const std::string name = item.first.Scalar();
    const YAML::Node section = item.second["autoscale"];
    if (!section.IsDefined() || section.IsNull()) continue;
    NOA_ASSIGN_OR_RETURN(AutoscalePolicy policy,
                         servicePolicy(section, "services." + name + ".autoscale", name));
    out.services.push_back(std::move(policy));
  }
  std::sort(
      out.services.begin(), out.services.end(),
      [](const AutoscalePolicy& a, const AutoscalePolicy& b) { return a.service < b.service; });
  return out;
}

}  // namespace

const AutoscalePolicy* AutoscalePolicies::find(std::string_view service) const {
  for (const auto& p : services) {
    if (p.service == service) return &p;
  }
  return nullptr;
}

Result<AutoscalePolicies> parseAutoscalePolicies(std::string_view yaml_text) {
  // yaml-cpp reports errors by throwing; nothing of it leaves this module.
  try {
    return parseRoot(YAML::Load(std::string(yaml_text)));
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return Status::InvalidArgument(e.msg);
    return Status::InvalidArgument("line " + std::to_string(e.mark.line + 1) + ", column " +
                                   std::to_string(e.mark.column + 1) + ": " + e.msg);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("policy: ") + e.what());
  }
}

Result<AutoscalePolicies> loadAutoscalePolicies(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("policy file '" + path + "': cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = parseAutoscalePolicies(text.str());
  if (!parsed.ok()) return parsed.status().withContext("policy file '" + path + "'");
  AutoscalePolicies out = std::move(parsed).value();
  out.path = path;
  return out;
}

}  // namespace noa::controller::autoscale
