#include "controller/failover/failover_policy.h"

#include "controller/policy/yaml_fields.h"

namespace noa::controller::failover {
namespace {

using policy::invalid;

Result<FailoverPolicy> parseOne(const YAML::Node& node, const std::string& path) {
  FailoverPolicy out;
  NOA_ASSIGN_OR_RETURN(
      auto entries,
      policy::mapEntries(node, path,
                         {"lease", "margin", "maximum_lag", "synchronous", "automatic", "priority",
                          "nofailover", "promote_timeout", "fence_timeout", "switchover_timeout"}));
  for (auto& [key, value] : entries) {
    const std::string key_path = path + "." + key;
    if (key == "lease") {
      NOA_ASSIGN_OR_RETURN(out.lease_ms, policy::positiveDuration(value, key_path));
      if (out.lease_ms < 200 || out.lease_ms > 600000) {
        return invalid(value, key_path, "must be between 200ms and 10m");
      }
    } else if (key == "margin") {
      NOA_ASSIGN_OR_RETURN(out.margin_ms, policy::positiveDuration(value, key_path));
    } else if (key == "maximum_lag") {
      NOA_ASSIGN_OR_RETURN(out.maximum_lag_bytes, policy::byteSize(value, key_path));
    } else if (key == "synchronous") {
      NOA_ASSIGN_OR_RETURN(out.synchronous, policy::boolean(value, key_path));
    } else if (key == "automatic") {
      NOA_ASSIGN_OR_RETURN(out.automatic, policy::boolean(value, key_path));
    } else if (key == "promote_timeout") {
      NOA_ASSIGN_OR_RETURN(out.promote_timeout_ms, policy::positiveDuration(value, key_path));
    } else if (key == "fence_timeout") {
      NOA_ASSIGN_OR_RETURN(out.fence_timeout_ms, policy::positiveDuration(value, key_path));
    } else if (key == "switchover_timeout") {
      NOA_ASSIGN_OR_RETURN(out.switchover_timeout_ms, policy::positiveDuration(value, key_path));
    } else if (key == "priority") {
      if (value.IsNull()) continue;
      if (!value.IsMap()) return invalid(value, key_path, "expected a map of member: priority");
      for (const auto& item : value) {
        NOA_ASSIGN_OR_RETURN(std::string member, policy::scalar(item.first, key_path));
        if (!policy::isName(member)) return invalid(item.first, key_path, "'" + member + "' is not a member name");
        NOA_ASSIGN_OR_RETURN(int64_t p, policy::integer(item.second, key_path + "." + member));
        out.priority[member] = p;
      }
    } else if (key == "nofailover") {
      if (value.IsNull()) continue;
      if (!value.IsSequence()) return invalid(value, key_path, "expected a list of member names");
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string item_path = key_path + "[" + std::to_string(i) + "]";
        NOA_ASSIGN_OR_RETURN(std::string member, policy::scalar(value[i], item_path));
        if (!policy::isName(member)) return invalid(value[i], item_path, "'" + member + "' is not a member name");
        out.nofailover.insert(member);
      }
    }
  }
  if (out.margin_ms >= out.lease_ms) {
    return invalid(node, path + ".margin", "must be shorter than the lease");
  }
  return out;
}

Result<FailoverPolicies> parseRoot(const YAML::Node& root) {
  FailoverPolicies out;
  if (!root.IsDefined() || root.IsNull()) return out;
  if (!root.IsMap()) return invalid(root, "policy", "expected a map with the key 'services'");
  const YAML::Node services = root["services"];
  if (!services.IsDefined() || services.IsNull()) return out;
  if (!services.IsMap()) return invalid(services, "services", "expected a map");
  for (const auto& item : services) {
    if (!item.first.IsScalar() || !item.second.IsMap()) continue;  // the backups loader reports it
    const YAML::Node section = item.second["failover"];
    if (!section.IsDefined()) continue;
    const std::string name = item.first.Scalar();
    NOA_ASSIGN_OR_RETURN(out.services[name], parseOne(section, "services." + name + ".failover"));
  }
  return out;
}

}  // namespace

Result<FailoverPolicies> parseFailoverPolicies(std::string_view yaml) {
  NOA_ASSIGN_OR_RETURN(YAML::Node root, policy::parseYamlDocument(yaml));
  try {
    return parseRoot(root);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("policy: ") + e.what());
  }
}

Result<FailoverPolicies> loadFailoverPolicies(const std::string& path) {
  NOA_ASSIGN_OR_RETURN(std::string text, policy::readPolicyText(path));
  auto parsed = parseFailoverPolicies(text);
  if (!parsed.ok()) return parsed.status().withContext("policy file '" + path + "'");
  return parsed;
}

}  // namespace noa::controller::failover
