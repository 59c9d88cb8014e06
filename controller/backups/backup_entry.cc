#include "controller/backups/backup_entry.h"

#include "controller/store/json_record.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <type_traits>

namespace noa::controller::backups {
namespace {

constexpr std::array<std::string_view, kBackupStatusCount> kStatusNames = {"available", "failed",
                                                                           "pruned", "corrupt"};

// The record version in the store; a reader refuses a newer one it cannot understand.
constexpr int kRecordVersion = 1;

using nlohmann::json;

using Fields = JsonFields;

Status readStatus(const Fields& f, const char* key, BackupStatus& out) {
  return f.name(key, out, parseBackupStatus, "status", true);
}
Status readKind(const Fields& f, const char* key, BackupKind& out) {
  return f.name(key, out, parseBackupKind, "kind", true);
}

}  // namespace

std::string_view backupStatusName(BackupStatus status) {
  return kStatusNames[static_cast<size_t>(status)];
}

std::optional<BackupStatus> parseBackupStatus(std::string_view name) {
  for (size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == name) return static_cast<BackupStatus>(i);
  }
  return std::nullopt;
}

std::string formatBackupId(int64_t created_ms, uint32_t counter) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "bk-%013lld-%06x", static_cast<long long>(created_ms),
                static_cast<unsigned>(counter & 0xffffff));
  return buf;
}

bool isBackupId(std::string_view id) {
  // "bk-" + 13 digits + "-" + 6 hex
  if (id.size() != 3 + 13 + 1 + 6 || id.substr(0, 3) != "bk-" || id[16] != '-') return false;
  for (size_t i = 3; i < 16; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(id[i]))) return false;
  }
  for (size_t i = 17; i < id.size(); ++i) {
    const char c = id[i];
    if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

json backupToJson(const BackupEntry& e) {
  json j = {{"id", e.id},
            {"service", e.service},
            {"agent_id", e.agent_id},
            {"policy", e.policy},
            {"kind", backupKindName(e.kind)},
            {"location", e.location},
            {"manifest_path", e.manifest_path},
            {"size_bytes", e.size_bytes},
            {"sha256", e.sha256},
            {"command_id", e.command_id},
            {"started_ms", e.started_ms},
            {"finished_ms", e.finished_ms},
            {"created_ms", e.created_ms},
            {"status", backupStatusName(e.status)},
            {"pinned", e.pinned},
            {"error", e.error}};
  json verifications = json::array();
  for (const auto& v : e.verifications) {
    verifications.push_back(
        {{"ts_ms", v.ts_ms}, {"ok", v.ok}, {"detail", v.detail}, {"command_id", v.command_id}});
  }
  j["verifications"] = std::move(verifications);
  json drills = json::array();
  for (const auto& d : e.drills) {
    drills.push_back({{"ts_ms", d.ts_ms},
                      {"ok", d.ok},
                      {"restore_ms", d.restore_ms},
                      {"rto_target_ms", d.rto_target_ms},
                      {"rto_met", d.rto_met},
                      {"detail", d.detail},
                      {"command_id", d.command_id}});
  }
  j["drills"] = std::move(drills);
  return j;
}

Result<BackupEntry> backupFromJson(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("backup: expected an object");
  Fields f(j, "backup");
  BackupEntry e;
  NOA_RETURN_IF_ERROR(f.str("id", e.id, true));
  NOA_RETURN_IF_ERROR(f.str("service", e.service, true));
  NOA_RETURN_IF_ERROR(f.str("agent_id", e.agent_id));
  NOA_RETURN_IF_ERROR(f.str("policy", e.policy));
  NOA_RETURN_IF_ERROR(readKind(f, "kind", e.kind));
  NOA_RETURN_IF_ERROR(f.str("location", e.location));
  NOA_RETURN_IF_ERROR(f.str("manifest_path", e.manifest_path));
  NOA_RETURN_IF_ERROR(f.integer("size_bytes", e.size_bytes));
  NOA_RETURN_IF_ERROR(f.str("sha256", e.sha256));
  NOA_RETURN_IF_ERROR(f.str("command_id", e.command_id));
  NOA_RETURN_IF_ERROR(f.integer("started_ms", e.started_ms));
  NOA_RETURN_IF_ERROR(f.integer("finished_ms", e.finished_ms));
  NOA_RETURN_IF_ERROR(f.integer("created_ms", e.created_ms, true));
  NOA_RETURN_IF_ERROR(readStatus(f, "status", e.status));
  NOA_RETURN_IF_ERROR(f.boolean("pinned", e.pinned));
  NOA_RETURN_IF_ERROR(f.str("error", e.error));
  NOA_RETURN_IF_ERROR(f.array("verifications", [&](const Fields& item) {
    BackupVerification v;
    NOA_RETURN_IF_ERROR(item.integer("ts_ms", v.ts_ms, true));
    NOA_RETURN_IF_ERROR(item.boolean("ok", v.ok, true));
    NOA_RETURN_IF_ERROR(item.str("detail", v.detail));
    NOA_RETURN_IF_ERROR(item.str("command_id", v.command_id));
    e.verifications.push_back(std::move(v));
    return Status::Ok();
  }));
  NOA_RETURN_IF_ERROR(f.array("drills", [&](const Fields& item) {
    BackupDrill d;
    NOA_RETURN_IF_ERROR(item.integer("ts_ms", d.ts_ms, true));
    NOA_RETURN_IF_ERROR(item.boolean("ok", d.ok, true));
    NOA_RETURN_IF_ERROR(item.integer("restore_ms", d.restore_ms));
    NOA_RETURN_IF_ERROR(item.integer("rto_target_ms", d.rto_target_ms));
    NOA_RETURN_IF_ERROR(item.boolean("rto_met", d.rto_met));
    NOA_RETURN_IF_ERROR(item.str("detail", d.detail));
    NOA_RETURN_IF_ERROR(item.str("command_id", d.command_id));
    e.drills.push_back(std::move(d));
    return Status::Ok();
  }));
  return e;
}

std::string encodeBackupEntry(const BackupEntry& entry) {
  return encodeJsonRecord(backupToJson(entry), kRecordVersion);
}

Result<BackupEntry> decodeBackupEntry(std::string_view bytes) {
  NOA_ASSIGN_OR_RETURN(json j, decodeJsonRecord(bytes, "backup record", kRecordVersion));
  auto entry = backupFromJson(j);
  if (!entry.ok()) return Status::Corruption("backup record: " + entry.status().message());
  return std::move(entry).value();
}

}  // namespace noa::controller::backups
