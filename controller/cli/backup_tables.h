#pragma once

// noactl tables for backups (GET /v1/backups, /v1/backups/{id}, /v1/backups/status). Same
// conventions as tables.h: a response of the wrong shape is InvalidArgument, a missing or null
// field shows as "-". Times in a backup entry are unix ms; `now_ms` is for ages.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace noa::cli {

// {"backups": [Backup...]} as ID SERVICE POLICY KIND STATUS SIZE AGE PINNED VERIFIED LOCATION
// (VERIFIED: the newest verification's outcome, ok | failed | -); "no backups" when empty.
Result<std::string> renderBackups(const nlohmann::json& body, int64_t now_ms);
// One Backup as the same table with one row (what pin prints).
Result<std::string> renderBackupRow(const nlohmann::json& backup, int64_t now_ms);
// One Backup in full as "key: value" lines, then its VERIFICATIONS (TIME OK DETAIL COMMAND)
// and DRILLS (TIME OK RESTORE RTO MET DETAIL COMMAND), oldest first.
Result<std::string> renderBackup(const nlohmann::json& backup, int64_t now_ms);
// {"services": [...]} as SERVICE NEWEST AGE RPO OK LAST-DRILL RESTORE RTO MET: the newest
// available backup, its age against the RPO target, the last drill's age, restore time against
// the RTO target; "no services with backups" when empty.
Result<std::string> renderBackupStatus(const nlohmann::json& body, int64_t now_ms);

}  // namespace noa::cli
