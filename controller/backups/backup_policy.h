#pragma once

// The controller's policy file: one YAML file for every service's policies. This module reads
// the backup parts (scheduled backups with their retention, restore drills, the RPO target);
// the per-service sections `autoscale:` and `failover:` belong to other modules and are
// accepted here without being read. Any other unknown key is refused, so a typo cannot turn a
// policy off silently. The format, every default and every error are described in
// schemas/policy.md.
//
// Schedules are cron expressions in UTC (cron.h). Defaults (from the deployment's seeds):
// pg_dump retention 30 days, snapshot retention 7 days, at least 3 kept, schedule @daily
// (00:00 UTC), RPO 15 minutes, RTO 1 hour.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "controller/backups/backup_kind.h"
#include "controller/backups/cron.h"
#include "controller/backups/retention.h"

namespace noa::controller::backups {

inline constexpr int64_t kMsPerDay = 86'400'000;
inline constexpr int64_t kDefaultPgDumpMaxAgeMs = 30 * kMsPerDay;
inline constexpr int64_t kDefaultSnapshotMaxAgeMs = 7 * kMsPerDay;
// Three, not one: one good backup is one bad disk away from none (reference section 6).
inline constexpr uint32_t kDefaultMinCount = 3;
inline constexpr std::string_view kDefaultSchedule = "@daily";
inline constexpr int64_t kDefaultRpoTargetMs = 15 * 60'000;
inline constexpr int64_t kDefaultRtoTargetMs = 3'600'000;
inline constexpr std::string_view kDefaultScratchDb = "noa_drill";

RetentionPolicy defaultRetention(BackupKind kind);

// Where a backup runs. Both empty: any live member of the service.
struct BackupTarget {
  std::string agent_id;  // a fixed agent, or
  std::string role;      // the service's agent in this role ("primary", "replica")
  bool operator==(const BackupTarget&) const = default;
};

struct BackupJobPolicy {
  std::string name;  // unique within the service; recorded in each catalog entry
  BackupKind kind = BackupKind::kPgDump;
  CronSchedule schedule;
  RetentionPolicy retention;
  nlohmann::json params = nlohmann::json::object();  // passed to the agent's action as is
  BackupTarget target;  // default: role primary for pg_dump, any member otherwise
};

struct DrillPolicy {
  CronSchedule schedule;
  int64_t rto_target_ms = kDefaultRtoTargetMs;
  std::string scratch_db = std::string(kDefaultScratchDb);  // restore target database
  std::string backup;  // which backup policy's newest good entry is restored
  nlohmann::json params = nlohmann::json::object();  // passed to the restore action
};

struct ServicePolicy {
  std::string service;
  std::vector<BackupJobPolicy> backups;  // in file order
  std::optional<DrillPolicy> drill;
  int64_t rpo_target_ms = kDefaultRpoTargetMs;

  const BackupJobPolicy* findBackup(std::string_view name) const;
};

struct PolicyFile {
  std::string path;                     // "" when parsed from text
  std::vector<ServicePolicy> services;  // ordered by service name

  const ServicePolicy* findService(std::string_view service) const;
  const BackupJobPolicy* findBackup(std::string_view service, std::string_view name) const;
};

// InvalidArgument naming the YAML path, e.g.
//   services.postgres.backups[0].schedule: bad minute field '61': '61' is out of range 0-59
//   services.postgres: unknown key 'backup' (known: backups, drill, rpo_target, ...)
//   line 3, column 7: illegal map value            (YAML syntax, from yaml-cpp)
// An empty text is a valid file without policies.
Result<PolicyFile> parsePolicyYaml(std::string_view text);

// parsePolicyYaml of the file's contents; errors are prefixed "policy file 'PATH': ".
// IoError when it cannot be read.
Result<PolicyFile> loadPolicyFile(const std::string& path);

}  // namespace noa::controller::backups
