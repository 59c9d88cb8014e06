#include "controller/backups/backup_policy.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>

#include "common/duration.h"
#include "controller/policy/yaml_fields.h"

namespace noa::controller::backups {
namespace {

using nlohmann::json;
using policy::invalid;
using policy::isName;
using policy::mapEntries;
using policy::positiveDuration;
using policy::scalar;

constexpr uint32_t kMaxMinCount = 10'000;

// A PostgreSQL identifier we can pass without quoting: [a-z_][a-z0-9_]{0,62}.
bool isPlainDatabaseName(std::string_view text) {
  if (text.empty() || text.size() > 63) return false;
  if (!(std::islower(static_cast<unsigned char>(text[0])) || text[0] == '_')) return false;
  for (char c : text) {
    if (!std::islower(static_cast<unsigned char>(c)) &&
        !std::isdigit(static_cast<unsigned char>(c)) && c != '_') {
      return false;
    }
  }
  return true;
}

Result<CronSchedule> schedule(const YAML::Node& node, const std::string& path) {
  NOA_ASSIGN_OR_RETURN(std::string text, scalar(node, path));
  auto parsed = parseCron(text);
  if (!parsed.ok()) return invalid(node, path, parsed.status().message());
  return std::move(parsed).value();
}

// YAML -> JSON for action parameters. Plain scalars are typed the YAML 1.2 core way (null,
// booleans, integers, floats, else strings); quoted scalars are always strings.
Result<json> toJson(const YAML::Node& node, const std::string& path) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return json(nullptr);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (size_t i = 0; i < node.size(); ++i) {
        NOA_ASSIGN_OR_RETURN(json item, toJson(node[i], path + "[" + std::to_string(i) + "]"));
        out.push_back(std::move(item));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& item : node) {
        if (!item.first.IsScalar()) return invalid(item.first, path, "keys must be strings");
        const std::string key = item.first.Scalar();
        if (out.contains(key)) return invalid(item.first, path, "duplicate key '" + key + "'");
        NOA_ASSIGN_OR_RETURN(out[key], toJson(item.second, path + "." + key));
      }
      return out;
    }
    case YAML::NodeType::Scalar:
      break;
  }
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return json(text);  // quoted
  if (text == "~" || text == "null" || text == "Null" || text == "NULL") return json(nullptr);
  if (text == "true" || text == "True" || text == "TRUE") return json(true);
  if (text == "false" || text == "False" || text == "FALSE") return json(false);
  json number = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (number.is_number()) return number;
  return json(text);
}

Result<RetentionPolicy> retention(const YAML::Node& node, const std::string& path,
                                  BackupKind kind) {
  RetentionPolicy out = defaultRetention(kind);
  NOA_ASSIGN_OR_RETURN(auto entries, mapEntries(node, path, {"max_age", "min_count"}));
  if (auto it = entries.find("max_age"); it != entries.end()) {
    NOA_ASSIGN_OR_RETURN(out.max_age_ms, positiveDuration(it->second, path + ".max_age"));
  }
  if (auto it = entries.find("min_count"); it != entries.end()) {
    const std::string item_path = path + ".min_count";
    NOA_ASSIGN_OR_RETURN(std::string text, scalar(it->second, item_path));
    const bool digits =
        !text.empty() && text.size() <= 6 && std::all_of(text.begin(), text.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0;
        });
    const long value = digits ? std::stol(text) : -1;
    if (value < 1 || value > kMaxMinCount) {
      return invalid(it->second, item_path,
                     "'" + text + "' must be a whole number 1-" + std::to_string(kMaxMinCount) +
                         " (0 would let retention delete the last good backup)");
    }
    out.min_count = static_cast<uint32_t>(value);
  }
  return out;
}

Result<BackupTarget> target(const YAML::Node& node, const std::string& path, BackupKind kind) {
  BackupTarget out;
  if (kind == BackupKind::kPgDump) out.role = "primary";
  if (!node.IsDefined() || node.IsNull()) return out;
  NOA_ASSIGN_OR_RETURN(auto entries, mapEntries(node, path, {"role", "agent_id"}));
  if (entries.count("role") != 0 && entries.count("agent_id") != 0) {
    return invalid(node, path, "give either role or agent_id, not both");
  }
  if (auto it = entries.find("agent_id"); it != entries.end()) {
    NOA_ASSIGN_OR_RETURN(out.agent_id, scalar(it->second, path + ".agent_id"));
    if (!isName(out.agent_id)) {
      return invalid(it->second, path + ".agent_id",
                     "'" + out.agent_id + "' is not an agent id ([A-Za-z0-9._-]{1,64})");
    }
    out.role.clear();
  }
  if (auto it = entries.find("role"); it != entries.end()) {
    NOA_ASSIGN_OR_RETURN(out.role, scalar(it->second, path + ".role"));
    if (!isName(out.role)) {
      return invalid(it->second, path + ".role", "'" + out.role + "' is not a role name");
    }
    if (out.role == "any") out.role.clear();
  }
  return out;
}

Result<BackupJobPolicy> backupJob(const YAML::Node& node, const std::string& path) {
  if (!node.IsMap()) return invalid(node, path, "expected a map");
  NOA_ASSIGN_OR_RETURN(
      auto entries,
      mapEntries(node, path, {"name", "kind", "schedule", "retention", "params", "target"}));
  BackupJobPolicy out;
  auto name = entries.find("name");
  if (name == entries.end()) return invalid(node, path + ".name", "required");
  NOA_ASSIGN_OR_RETURN(out.name, scalar(name->second, path + ".name"));
  if (!isName(out.name)) {
    return invalid(name->second, path + ".name",
                   "'" + out.name + "' is not a name ([A-Za-z0-9._-]{1,64})");
  }
  auto kind = entries.find("kind");
  if (kind == entries.end()) return invalid(node, path + ".kind", "required (pg_dump | snapshot)");
  NOA_ASSIGN_OR_RETURN(std::string kind_name, scalar(kind->second, path + ".kind"));
  auto parsed_kind = parseBackupKind(kind_name);
  if (!parsed_kind) {
    return invalid(kind->second, path + ".kind",
                   "unknown kind '" + kind_name + "' (known: pg_dump, snapshot)");
  }
  out.kind = *parsed_kind;
  if (auto it = entries.find("schedule"); it != entries.end()) {
    NOA_ASSIGN_OR_RETURN(out.schedule, schedule(it->second, path + ".schedule"));
  } else {
    out.schedule = std::move(parseCron(kDefaultSchedule)).value();
  }
  NOA_ASSIGN_OR_RETURN(out.retention,
                       retention(entries["retention"], path + ".retention", out.kind));
  if (auto it = entries.find("params"); it != entries.end() && !it->second.IsNull()) {
    if (!it->second.IsMap()) return invalid(it->second, path + ".params", "expected a map");
    NOA_ASSIGN_OR_RETURN(out.params, toJson(it->second, path + ".params"));
  }
  NOA_ASSIGN_OR_RETURN(out.target, target(entries["target"], path + ".target", out.kind));
  return out;
}

Result<DrillPolicy> drill(const YAML::Node& node, const std::string& path,
                          const ServicePolicy& service) {
  if (!node.IsMap()) return invalid(node, path, "expected a map");
  NOA_ASSIGN_OR_RETURN(
      auto entries,
      mapEntries(node, path, {"schedule", "rto_target", "scratch_db", "backup", "params"}));
  DrillPolicy out;
  auto when = entries.find("schedule");
  if (when == entries.end()) return invalid(node, path + ".schedule", "required");
  NOA_ASSIGN_OR_RETURN(out.schedule, schedule(when->second, path + ".schedule"));
  if (auto it = entries.find("rto_target"); it != entries.end()) {
    NOA_ASSIGN_OR_RETURN(out.rto_target_ms, positiveDuration(it->second, path + ".rto_target"));
  }
  if (auto it = entries.find("scratch_db"); it != entries.end()) {
    NOA_ASSIGN_OR_RETURN(out.scratch_db, scalar(it->second, path + ".scratch_db"));
    if (!isPlainDatabaseName(out.scratch_db)) {
      return invalid(it->second, path + ".scratch_db",
                     "'" + out.scratch_db + "' is not a plain database name ([a-z_][a-z0-9_]*)");
    }
  }
  if (auto it = entries.find("params"); it != entries.end() && !it->second.IsNull()) {
    if (!it->second.IsMap()) return invalid(it->second, path + ".params", "expected a map");
    NOA_ASSIGN_OR_RETURN(out.params, toJson(it->second, path + ".params"));
  }
  const BackupJobPolicy* source = nullptr;
  if (auto it = entries.find("backup"); it != entries.end()) {
    NOA_ASSIGN_OR_RETURN(out.backup, scalar(it->second, path + ".backup"));
    source = service.findBackup(out.backup);
    if (source == nullptr) {
      return invalid(it->second, path + ".backup",
                     "no backup named '" + out.backup + "' in this service");
    }
  } else {
    for (const auto& b : service.backups) {
      if (b.kind == BackupKind::kPgDump) {
        source = &b;
        break;
      }
    }
    if (source == nullptr && !service.backups.empty()) source = &service.backups.front();
    if (source == nullptr) return invalid(node, path, "the service has no backups to drill");
    out.backup = source->name;
  }
  // The drill restores into scratch_db; pointed at the live database it would overwrite it.
  if (const auto db = source->params.find("dbname");
      db != source->params.end() && db->is_string() && *db == out.scratch_db) {
    return invalid(node, path + ".scratch_db",
                   "'" + out.scratch_db + "' is the database backup '" + source->name +
                       "' dumps; a drill must restore elsewhere");
  }
  return out;
}

Result<ServicePolicy> servicePolicy(const YAML::Node& node, const std::string& path,
                                    const std::string& name) {
  ServicePolicy out;
  out.service = name;
  // autoscale and failover are sections other modules read from the same file.
  NOA_ASSIGN_OR_RETURN(auto entries, mapEntries(node, path, {"backups", "drill", "rpo_target"},
                                                {"autoscale", "failover"}));
  if (auto it = entries.find("backups"); it != entries.end() && !it->second.IsNull()) {
    if (!it->second.IsSequence()) return invalid(it->second, path + ".backups", "expected a list");
    for (size_t i = 0; i < it->second.size(); ++i) {
      const std::string item_path = path + ".backups[" + std::to_string(i) + "]";
      NOA_ASSIGN_OR_RETURN(BackupJobPolicy job, backupJob(it->second[i], item_path));
      for (size_t j = 0; j < out.backups.size(); ++j) {
        if (out.backups[j].name == job.name) {
          return invalid(
              it->second[i], item_path + ".name",
              "duplicate name '" + job.name + "' (also backups[" + std::to_string(j) + "])");
        }
      }
      out.backups.push_back(std::move(job));
    }
  }
  if (auto it = entries.find("rpo_target"); it != entries.end()) {
    NOA_ASSIGN_OR_RETURN(out.rpo_target_ms, positiveDuration(it->second, path + ".rpo_target"));
  }
  if (auto it = entries.find("drill"); it != entries.end() && !it->second.IsNull()) {
    NOA_ASSIGN_OR_RETURN(out.drill, drill(it->second, path + ".drill", out));
  }
  return out;
}

Result<PolicyFile> parseRoot(const YAML::Node& root) {
  PolicyFile out;
  if (!root.IsDefined() || root.IsNull()) return out;
  if (!root.IsMap()) return invalid(root, "policy", "expected a map with the key 'services'");
  NOA_ASSIGN_OR_RETURN(auto entries, mapEntries(root, "policy", {"services"}));
  auto services = entries.find("services");
  if (services == entries.end() || services->second.IsNull()) return out;
  if (!services->second.IsMap()) return invalid(services->second, "services", "expected a map");
  for (const auto& item : services->second) {
    if (!item.first.IsScalar()) return invalid(item.first, "services", "keys must be strings");
    const std::string name = item.first.Scalar();
    if (!isName(name)) {
      return invalid(item.first, "services",
                     "'" + name + "' is not a service name ([A-Za-z0-9._-]{1,64})");
    }
    if (out.findService(name) != nullptr) {
      return invalid(item.first, "services", "duplicate service '" + name + "'");
    }
    NOA_ASSIGN_OR_RETURN(ServicePolicy service,
                         servicePolicy(item.second, "services." + name, name));
    out.services.push_back(std::move(service));
  }
  std::sort(out.services.begin(), out.services.end(),
            [](const ServicePolicy& a, const ServicePolicy& b) { return a.service < b.service; });
  return out;
}

}  // namespace

RetentionPolicy defaultRetention(BackupKind kind) {
  return {kind == BackupKind::kPgDump ? kDefaultPgDumpMaxAgeMs : kDefaultSnapshotMaxAgeMs,
          kDefaultMinCount};
}

const BackupJobPolicy* ServicePolicy::findBackup(std::string_view name) const {
  for (const auto& b : backups) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

const ServicePolicy* PolicyFile::findService(std::string_view service) const {
  for (const auto& s : services) {
    if (s.service == service) return &s;
  }
  return nullptr;
}

const BackupJobPolicy* PolicyFile::findBackup(std::string_view service,
                                              std::string_view name) const {
  const ServicePolicy* s = findService(service);
  return s == nullptr ? nullptr : s->findBackup(name);
}

Result<PolicyFile> parsePolicyYaml(std::string_view text) {
  NOA_ASSIGN_OR_RETURN(YAML::Node root, policy::parseYamlDocument(text));
  // yaml-cpp may also throw while walking the tree; nothing of it leaves this module.
  try {
    return parseRoot(root);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("policy: ") + e.what());
  }
}

Result<PolicyFile> loadPolicyFile(const std::string& path) {
  NOA_ASSIGN_OR_RETURN(std::string text, policy::readPolicyText(path));
  auto parsed = parsePolicyYaml(text);
  if (!parsed.ok()) return parsed.status().withContext("policy file '" + path + "'");
  PolicyFile file = std::move(parsed).value();
  file.path = path;
  return file;
}

}  // namespace noa::controller::backups
