#pragma once

// One backup as the controller's catalog records it: where the artifact is, what it is, how it
// was made, and every verification and restore drill run on it since. Stored in the `backups`
// column family keyed by id (schemas/store.md, "backups"); the JSON form is also the REST
// representation.
//
// Times are the controller's wall clock in unix ms, except started_ms / finished_ms, which are
// the agent's (from the action's manifest). Ordering and retention use created_ms, the catalog
// time: artifact file times and agent clocks can disagree, the catalog's order cannot.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "controller/backups/backup_kind.h"

namespace noa::controller::backups {

enum class BackupStatus {
  kAvailable,  // the artifact exists and was good when last checked
  kFailed,     // the backup did not complete; there is no artifact
  kPruned,     // deleted by retention (the entry stays, as history)
  kCorrupt,    // the artifact exists but failed a verification or a drill
};

inline constexpr int kBackupStatusCount = 4;

std::string_view backupStatusName(BackupStatus status);  // "available", "failed", ...
std::optional<BackupStatus> parseBackupStatus(std::string_view name);

struct BackupVerification {
  int64_t ts_ms = 0;  // controller wall clock when the result arrived
  bool ok = false;
  std::string detail;
  std::string command_id;
  bool operator==(const BackupVerification&) const = default;
};

struct BackupDrill {
  int64_t ts_ms = 0;
  bool ok = false;            // the restore succeeded and its probe answered
  int64_t restore_ms = 0;     // measured time to restore (the RTO actually achieved)
  int64_t rto_target_ms = 0;  // the target at the time of the drill
  bool rto_met = false;       // ok && restore_ms <= rto_target_ms
  std::string detail;
  std::string command_id;
  bool operator==(const BackupDrill&) const = default;
};

struct BackupEntry {
  std::string id;  // "bk-<13-digit unix ms>-<6 hex>": unique, sorts by catalog time
  std::string service;
  std::string agent_id;  // the agent that made it and holds the artifact
  std::string policy;    // the backup policy's name; "" for a manual backup
  BackupKind kind = BackupKind::kPgDump;
  std::string location;       // artifact path on the agent's host
  std::string manifest_path;  // the `<artifact>.json` manifest beside it
  uint64_t size_bytes = 0;
  std::string sha256;  // lowercase hex
  std::string command_id;
  // Controller clock: when the agent reported the backup running, and when its result arrived
  // (the manifest beside the artifact has the agent's own started_at / stopped_at).
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  int64_t created_ms = 0;   // catalog time (controller clock)
  BackupStatus status = BackupStatus::kAvailable;
  bool pinned = false;                            // never pruned by retention
  std::vector<BackupVerification> verifications;  // oldest first
  std::vector<BackupDrill> drills;                // oldest first
  std::string error;                              // why it failed / is corrupt
  bool operator==(const BackupEntry&) const = default;
};

// "bk-%013lld-%06x": 13 digits of unix ms keep lexical order = time order until the year 2286.
std::string formatBackupId(int64_t created_ms, uint32_t counter);
bool isBackupId(std::string_view id);

// The entry as JSON (also the REST representation).
nlohmann::json backupToJson(const BackupEntry& entry);
// InvalidArgument naming the field when `json` is not a backup entry.
Result<BackupEntry> backupFromJson(const nlohmann::json& json);

// Store encoding: MessagePack of backupToJson() plus a record version `rv`.
std::string encodeBackupEntry(const BackupEntry& entry);
// Corruption naming the field when the bytes are not a backup entry.
Result<BackupEntry> decodeBackupEntry(std::string_view bytes);

}  // namespace noa::controller::backups
