#include "controller/api/backups_handler.h"

#include <optional>
#include <string>

#include "controller/api/problem.h"
#include "controller/api/query_params.h"
#include "controller/api/request_body.h"
#include "controller/backups/backup_coordinator.h"

namespace noa::controller::api {
namespace {

using backups::BackupCoordinator;
using backups::BackupEntry;
using backups::ServiceBackupStatus;
using nlohmann::json;

constexpr size_t kDefaultListLimit = 100;
constexpr size_t kMaxListLimit = 1000;
constexpr const char* kStatusNames = "available, failed, pruned or corrupt";

ApiResponse backupsOff() { return problem(503, "backups are not available"); }

ApiResponse unknownBackup(const std::string& id) { return problem(404, "no backup '" + id + "'"); }

// A command the coordinator created: 201, the record, and where to follow it.
ApiResponse createdCommand(const Result<commands::CommandRecord>& created) {
  if (!created.ok()) return commandRefusal(created.status());
  ApiResponse res = jsonResponse(201, commands::commandToJson(*created));
  res.headers.emplace_back("Location", "/v1/commands/" + created->id);
  return res;
}

// null for 0 (= never), else RFC 3339.
json timestampOrNull(int64_t unix_ms) {
  return unix_ms == 0 ? json(nullptr) : json(formatRfc3339(fromUnixMillis(unix_ms)));
}

json serviceStatusJson(const ServiceBackupStatus& s) {
  const backups::RpoStatus& rpo = s.rpo;
  json last_drill = nullptr;
  if (s.last_drill) {
    const backups::BackupDrill& d = *s.last_drill;
    last_drill = {{"backup_id", s.last_drill_backup_id},
                  {"ts", timestampOrNull(d.ts_ms)},
                  {"ok", d.ok},
                  {"restore_ms", d.restore_ms},
                  {"rto_target_ms", d.rto_target_ms},
                  {"rto_met", d.rto_met},
                  {"detail", d.detail},
                  {"command_id", d.command_id}};
  }
  return {{"service", s.service},
          {"has_policy", s.has_policy},
          {"available", s.available},
          {"rpo",
           {{"has_backup", rpo.has_backup},
            {"newest_id", rpo.newest_id.empty() ? json(nullptr) : json(rpo.newest_id)},
            {"newest_point", rpo.has_backup ? timestampOrNull(rpo.newest_point_ms) : json(nullptr)},
            {"age_ms", rpo.age_ms},
            {"rpo_target_ms", rpo.rpo_target_ms},
            {"ok", rpo.ok},
            {"reason", rpo.reason}}},
          {"last_drill", std::move(last_drill)},
          {"rto_target_ms", s.rto_target_ms}};
}

// The body of POST /v1/backups ({"service", "policy"?}) or, without `policy_allowed`, of
// POST /v1/backups/drills ({"service"}); nullopt when well formed, else the 400.
std::optional<ApiResponse> parseServiceBody(const std::string& text, bool policy_allowed,
                                            std::string& service, std::string& policy) {
  json body;
  const char* example = policy_allowed ? R"({"service": "postgres", "policy": "nightly"})"
                                       : R"({"service": "postgres"})";
  if (auto bad = parseBodyObject(text, example, /*empty_is_object=*/false, body)) return bad;
  for (const auto& [name, value] : body.items()) {
    if (name == "service") {
      if (auto bad = readString(name, value, service)) return bad;
    } else if (name == "policy" && policy_allowed) {
      if (auto bad = readString(name, value, policy)) return bad;
    } else {
      return unknownField(name, policy_allowed ? "service, policy" : "service");
    }
  }
  if (service.empty()) return badField("service", "service is required, e.g. postgres");
  return std::nullopt;
}

std::optional<ApiResponse> parseRestoreBody(const std::string& text, std::string& target_db,
                                            bool& swap) {
  json body;
  if (auto bad = parseBodyObject(text, R"({"target_db": "app_copy", "swap": false})",
                                 /*empty_is_object=*/false, body)) {
    return bad;
  }
  for (const auto& [name, value] : body.items()) {
    if (name == "target_db") {
      if (auto bad = readString(name, value, target_db)) return bad;
    } else if (name == "swap") {
      if (auto bad = readBool(name, value, swap)) return bad;
    } else {
      return unknownField(name, "target_db, swap");
    }
  }
  if (target_db.empty()) {
    return badField("target_db", "target_db is required: the database to restore into");
  }
  return std::nullopt;
}

std::optional<ApiResponse> parsePinBody(const std::string& text, bool& pinned) {
  json body;
  if (auto bad = parseBodyObject(text, R"({"pinned": true})", /*empty_is_object=*/true, body)) {
    return bad;
  }
  for (const auto& [name, value] : body.items()) {
    if (name != "pinned") return unknownField(name, "pinned");
    if (auto bad = readBool(name, value, pinned)) return bad;
  }
  return std::nullopt;
}

}  // namespace

ApiResponse handleListBackups(const ApiContext& context, const ApiRequest& request) {
  BackupCoordinator* coordinator = context.state.backups();
  if (coordinator == nullptr) return backupsOff();
  backups::BackupFilter filter;
  filter.service = request.queryParam("service").value_or("");
  if (auto text = request.queryParam("status"); text && !text->empty()) {
    filter.status = backups::parseBackupStatus(*text);
    if (!filter.status) {
      return badParameter("status",
                          std::string("status must be ") + kStatusNames + ", not '" + *text + "'");
    }
  }
  // Empty means any policy, as an empty filter does everywhere else.
  if (auto text = request.queryParam("policy"); text && !text->empty()) filter.policy = *text;
  Result<size_t> limit = parseLimit(request.queryParam("limit"), kDefaultListLimit, kMaxListLimit);
  if (!limit.ok()) return badParameter("limit", limit.status().message());
  filter.limit = *limit;

  json out = json::array();
  for (const BackupEntry& entry : coordinator->catalog().list(filter)) {
    out.push_back(backups::backupToJson(entry));
  }
  return jsonResponse(200, {{"backups", std::move(out)}});
}

ApiResponse handleBackupStatus(const ApiContext& context, const ApiRequest& /*request*/) {
  BackupCoordinator* coordinator = context.state.backups();
  if (coordinator == nullptr) return backupsOff();
  json out = json::array();
  for (const ServiceBackupStatus& s : coordinator->status()) out.push_back(serviceStatusJson(s));
  return jsonResponse(200, {{"services", std::move(out)}});
}

ApiResponse handleGetBackup(const ApiContext& context, const ApiRequest& request) {
  BackupCoordinator* coordinator = context.state.backups();
  if (coordinator == nullptr) return backupsOff();
  const std::string& id = request.path_params.at("id");
  std::optional<BackupEntry> entry = coordinator->catalog().get(id);
  if (!entry) return unknownBackup(id);
  return jsonResponse(200, backups::backupToJson(*entry));
}

ApiResponse handleCreateBackup(const ApiContext& context, const ApiRequest& request) {
  BackupCoordinator* coordinator = context.state.backups();
  if (coordinator == nullptr) return backupsOff();
  std::string service, policy;
  if (auto bad = parseServiceBody(request.body, /*policy_allowed=*/true, service, policy)) {
    return *bad;
  }
  return createdCommand(coordinator->backupNow(service, policy, actorOf(request)));
}

ApiResponse handleRestoreBackup(const ApiContext& context, const ApiRequest& request) {
  BackupCoordinator* coordinator = context.state.backups();
  if (coordinator == nullptr) return backupsOff();
  std::string target_db;
  bool swap = false;
  if (auto bad = parseRestoreBody(request.body, target_db, swap)) return *bad;
  return createdCommand(
      coordinator->restore(request.path_params.at("id"), target_db, swap, actorOf(request)));
}

ApiResponse handleVerifyBackup(const ApiContext& context, const ApiRequest& request) {
  BackupCoordinator* coordinator = context.state.backups();
  if (coordinator == nullptr) return backupsOff();
  if (auto bad = expectNoFields(request, "verify")) return *bad;
  return createdCommand(coordinator->verify(request.path_params.at("id"), actorOf(request)));
}

ApiResponse handlePinBackup(const ApiContext& context, const ApiRequest& request) {
  BackupCoordinator* coordinator = context.state.backups();
  if (coordinator == nullptr) return backupsOff();
  bool pinned = true;
  if (auto bad = parsePinBody(request.body, pinned)) return *bad;
  const std::string& id = request.path_params.at("id");
  Result<BackupEntry> changed = coordinator->setPinned(id, pinned);
  if (!changed.ok()) {
    if (changed.status().code() == StatusCode::kNotFound) return unknownBackup(id);
    return problemFromStatus(changed.status());
  }
  return jsonResponse(200, backups::backupToJson(*changed));
}

ApiResponse handleCreateDrill(const ApiContext& context, const ApiRequest& request) {
  BackupCoordinator* coordinator = context.state.backups();
  if (coordinator == nullptr) return backupsOff();
  std::string service, unused_policy;
  if (auto bad = parseServiceBody(request.body, /*policy_allowed=*/false, service, unused_policy)) {
    return *bad;
  }
  return createdCommand(coordinator->drill(service, actorOf(request)));
}

}  // namespace noa::controller::api
