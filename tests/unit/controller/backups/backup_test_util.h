#pragma once

// Shared by the backup tests: UTC times from calendar fields (timegm: an oracle independent of
// cron.cc's own calendar code) and sample catalog entries.

#include <time.h>

#include <cstdint>
#include <string>

#include "controller/backups/backup_entry.h"

namespace noa::controller::backups::testing {

inline constexpr int64_t kMinute = 60'000;
inline constexpr int64_t kHour = 60 * kMinute;
inline constexpr int64_t kDay = 24 * kHour;

inline int64_t utcMs(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

inline BackupEntry sampleEntry(const std::string& id, int64_t created_ms,
                               BackupStatus status = BackupStatus::kAvailable) {
  BackupEntry e;
  e.id = id;
  e.service = "postgres";
  e.agent_id = "pg-1";
  e.policy = "nightly-dump";
  e.kind = BackupKind::kPgDump;
  e.location = "/var/lib/noa-backups/postgres/" + id + ".dump";
  e.manifest_path = e.location + ".json";
  e.size_bytes = 650'000'000;
  e.sha256 = std::string(64, 'a');
  e.command_id = "cmd-" + id;
  e.started_ms = created_ms - 3000;
  e.finished_ms = created_ms - 100;
  e.created_ms = created_ms;
  e.status = status;
  return e;
}

}  // namespace noa::controller::backups::testing
