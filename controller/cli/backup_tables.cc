#include "controller/cli/backup_tables.h"

#include <cstdio>
#include <vector>

#include "common/clock.h"
#include "controller/cli/tables.h"

namespace noa::cli {
namespace {

using nlohmann::json;

std::string text(const json& object, const char* key) { return fieldText(object, key); }

const json& member(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

int64_t integer(const json& object, const char* key) {
  const json& value = member(object, key);
  return value.is_number_integer() ? value.get<int64_t>() : 0;
}

// A unix-ms member as "TIME (12s ago)"; "-" when absent or 0 (= none).
std::string timeText(const json& object, const char* key, int64_t now_ms) {
  const int64_t ms = integer(object, key);
  if (ms == 0) return "-";
  return formatRfc3339(fromUnixMillis(ms)) + " (" + formatRelativeMs(ms, now_ms) + ")";
}

// A measured time: "850ms", "1.2s", "3m"; "-" for a missing member.
std::string millisText(const json& object, const char* key) {
  const json& value = member(object, key);
  if (!value.is_number_integer()) return "-";
  const int64_t ms = value.get<int64_t>();
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms < 60'000) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000);
    return buf;
  }
  return formatSeconds(ms / 1000);
}

// A target (RPO, RTO) in ms; "-" for 0 (none configured).
std::string targetText(const json& object, const char* key) {
  const int64_t ms = integer(object, key);
  return ms == 0 ? "-" : formatSeconds(ms / 1000);
}

std::string okText(const json& object, const char* key) {
  const json& value = member(object, key);
  if (!value.is_boolean()) return "-";
  return value.get<bool>() ? "ok" : "failed";
}

// The newest verification's outcome; "-" when never verified.
std::string lastVerification(const json& backup) {
  const json& checks = member(backup, "verifications");
  if (!checks.is_array() || checks.empty()) return "-";
  return okText(checks.back(), "ok");
}

Result<Row> backupRow(const json& b, int64_t now_ms) {
  if (!b.is_object()) return Status::InvalidArgument("expected a backup object");
  return Row{
      text(b, "id"),
      text(b, "service"),
      text(b, "policy"),
      text(b, "kind"),
      text(b, "status"),
      formatBytes(member(b, "size_bytes")),
      integer(b, "created_ms") == 0 ? "-" : formatRelativeMs(integer(b, "created_ms"), now_ms),
      text(b, "pinned"),
      lastVerification(b),
      text(b, "location")};
}

const Row kBackupHeader = {"ID",   "SERVICE", "POLICY", "KIND",     "STATUS",
                           "SIZE", "AGE",     "PINNED", "VERIFIED", "LOCATION"};

std::string timeCell(const json& object) {
  const int64_t ms = integer(object, "ts_ms");
  return ms == 0 ? "-" : formatRfc3339(fromUnixMillis(ms));
}

Result<std::string> checksTable(const json& backup) {
  std::string out;
  const json& verifications = member(backup, "verifications");
  if (verifications.is_array() && !verifications.empty()) {
    std::vector<Row> rows;
    for (const json& v : verifications) {
      if (!v.is_object()) return Status::InvalidArgument("expected verifications to be objects");
      rows.push_back({timeCell(v), okText(v, "ok"), text(v, "detail"), text(v, "command_id")});
    }
    out += "\nVERIFICATIONS\n" + renderTable({"TIME", "OK", "DETAIL", "COMMAND"}, rows);
  }
  const json& drills = member(backup, "drills");
  if (drills.is_array() && !drills.empty()) {
    std::vector<Row> rows;
    for (const json& d : drills) {
      if (!d.is_object()) return Status::InvalidArgument("expected drills to be objects");
      rows.push_back({timeCell(d), okText(d, "ok"), millisText(d, "restore_ms"),
                      targetText(d, "rto_target_ms"), text(d, "rto_met"), text(d, "detail"),
                      text(d, "command_id")});
    }
    out += "\nDRILLS\n" +
           renderTable({"TIME", "OK", "RESTORE", "RTO", "MET", "DETAIL", "COMMAND"}, rows);
  }
  return out;
}

}  // namespace

Result<std::string> renderBackups(const json& body, int64_t now_ms) {
  return renderRows(body, "backups", kBackupHeader, "no backups\n",
                    [now_ms](const json& b) { return backupRow(b, now_ms); });
}

Result<std::string> renderBackupRow(const json& backup, int64_t now_ms) {
  NOA_ASSIGN_OR_RETURN(Row row, backupRow(backup, now_ms));
  return renderTable(kBackupHeader, {row});
}

Result<std::string> renderBackup(const json& b, int64_t now_ms) {
  if (!b.is_object()) return Status::InvalidArgument("expected a backup object");
  std::string status = text(b, "status");
  if (text(b, "error") != "-") status += ": " + text(b, "error");
  const std::string policy = text(b, "policy");
  std::string size = formatBytes(member(b, "size_bytes"));
  if (member(b, "size_bytes").is_number_integer()) size += " (" + text(b, "size_bytes") + " bytes)";
  std::string out = renderKeyValues({
      {"id", text(b, "id")},
      {"service", text(b, "service")},
      {"policy", policy == "-" ? "- (manual)" : policy},
      {"kind", text(b, "kind")},
      {"status", status},
      {"pinned", text(b, "pinned")},
      {"agent", text(b, "agent_id") + " (holds the artifact)"},
      {"location", text(b, "location")},
      {"manifest", text(b, "manifest_path")},
      {"size", size},
      {"sha256", text(b, "sha256")},
      {"cataloged", timeText(b, "created_ms", now_ms)},
      {"started", timeText(b, "started_ms", now_ms)},
      {"finished", timeText(b, "finished_ms", now_ms)},
      {"command", text(b, "command_id")},
  });
  NOA_ASSIGN_OR_RETURN(std::string checks, checksTable(b));
  return out + checks;
}

Result<std::string> renderBackupStatus(const json& body, int64_t now_ms) {
  const json& list = member(body, "services");
  if (!list.is_array()) return Status::InvalidArgument("expected an array \"services\"");
  std::vector<Row> rows;
  for (const json& s : list) {
    if (!s.is_object()) return Status::InvalidArgument("expected service status objects");
    const json& rpo = member(s, "rpo");
    const json& drill = member(s, "last_drill");
    const bool has_backup = member(rpo, "has_backup") == true;
    rows.push_back(
        {text(s, "service"), text(rpo, "newest_id"),
         has_backup ? formatSeconds(integer(rpo, "age_ms") / 1000) : "-",
         targetText(rpo, "rpo_target_ms"), text(rpo, "ok"),
         drill.is_object() ? formatAge(member(drill, "ts"), now_ms) : "-",
         drill.is_object() ? millisText(drill, "restore_ms") + " (" + okText(drill, "ok") + ")"
                           : "-",
         targetText(s, "rto_target_ms"), drill.is_object() ? text(drill, "rto_met") : "-"});
  }
  if (rows.empty()) return std::string("no services with backups\n");
  return renderTable(
      {"SERVICE", "NEWEST", "AGE", "RPO", "OK", "LAST-DRILL", "RESTORE", "RTO", "MET"}, rows);
}

}  // namespace noa::cli
