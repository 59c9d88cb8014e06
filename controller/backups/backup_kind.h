#pragma once

// The kinds of backup the controller schedules and catalogs, and the agent action that makes
// each (agent/actions: backup.pg_dump, snapshot.create).

#include <optional>
#include <string_view>

namespace noa::controller::backups {

enum class BackupKind {
  kPgDump,    // logical dump of one PostgreSQL database (pg_dump -Fc)
  kSnapshot,  // tar + zstd archive of a data directory (a volume, or a stopped PostgreSQL)
};

constexpr std::string_view backupKindName(BackupKind kind) {
  return kind == BackupKind::kPgDump ? "pg_dump" : "snapshot";
}

constexpr std::optional<BackupKind> parseBackupKind(std::string_view name) {
  if (name == "pg_dump") return BackupKind::kPgDump;
  if (name == "snapshot") return BackupKind::kSnapshot;
  return std::nullopt;
}

// The agent action that creates a backup of this kind.
constexpr std::string_view backupActionName(BackupKind kind) {
  return kind == BackupKind::kPgDump ? "backup.pg_dump" : "snapshot.create";
}

}  // namespace noa::controller::backups
