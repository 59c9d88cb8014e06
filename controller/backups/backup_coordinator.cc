#include "controller/backups/backup_coordinator.h"

#include <filesystem>
#include <map>

#include "common/log.h"
#include "controller/backups/retention.h"

namespace noa::controller::backups {
namespace {

using commands::CommandRecord;
using commands::CommandState;
using nlohmann::json;

constexpr std::string_view kBackupOrigin = "backup:";
constexpr std::string_view kVerifyOrigin = "verify:";
constexpr std::string_view kRestoreOrigin = "restore:";
constexpr std::string_view kDrillOrigin = "drill:";
constexpr std::string_view kRetentionOrigin = "retention:";

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// "<a>/<b>" after a prefix -> {a, b}.
std::pair<std::string, std::string> splitOrigin(std::string_view origin, std::string_view prefix) {
  std::string_view rest = origin.substr(prefix.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return {std::string(rest), ""};
  return {std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))};
}

std::optional<BackupKind> kindOfAction(const std::string& action) {
  if (action == backupActionName(BackupKind::kPgDump)) return BackupKind::kPgDump;
  if (action == backupActionName(BackupKind::kSnapshot)) return BackupKind::kSnapshot;
  return std::nullopt;
}

// When the command's state last changed to `state` (controller clock), 0 if never.
int64_t timeOf(const CommandRecord& c, CommandState state) {
  for (auto it = c.history.rbegin(); it != c.history.rend(); ++it) {
    if (it->state == state) return it->ts_ms;
  }
  return 0;
}

int64_t finishedAt(const CommandRecord& c) { return c.history.empty() ? 0 : c.history.back().ts_ms; }

std::string failureText(const CommandRecord& c) {
  if (!c.result) return std::string(commands::commandStateName(c.state));
  std::string text = c.result->error_code.empty() ? c.result->status : c.result->error_code;
  if (!c.result->error.empty()) text += ": " + c.result->error;
  return text;
}

std::string outputString(const CommandRecord& c, const char* key) {
  if (!c.result || !c.result->output.is_object()) return "";
  auto it = c.result->output.find(key);
  return it != c.result->output.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

BackupCoordinator::BackupCoordinator(BackupCatalog& catalog, commands::CommandBook& commands,
                                     AgentsSnapshot agents, PolicyFile policy, const Clock& clock,
                                     CoordinatorOptions options)
    : catalog_(catalog),
      commands_(commands),
      agents_(std::move(agents)),
      policy_(std::move(policy)),
      clock_(clock),
      options_(options) {}

Status BackupCoordinator::start() {
  NOA_ASSIGN_OR_RETURN(ScheduleState loaded, catalog_.loadScheduleState());
  std::lock_guard lock(mu_);
  schedule_ = std::move(loaded);
  return Status::Ok();
}

void BackupCoordinator::tick() {
  catalogFinished();
  runSchedules();
  applyRetention();
}

// ---- commands out ----

Result<commands::TargetSpec> BackupCoordinator::chooseTarget(const std::string& service,
                                                             const BackupTarget& target,
                                                             const std::string& action) const {
  if (!target.agent_id.empty()) return commands::TargetSpec{target.agent_id, "", ""};
  if (!target.role.empty()) return commands::TargetSpec{"", service, target.role};
  // Any live member that can run it: the first by id, so repeated runs land on the same host.
  for (const AgentRecord& a : agents_()) {
    if (a.hello.service != service || a.liveness == Liveness::kLost) continue;
    const auto& caps = a.hello.capabilities;
    if (std::find(caps.begin(), caps.end(), action) != caps.end()) {
      return commands::TargetSpec{a.hello.agent_id, "", ""};
    }
  }
  return Status::NotFound("no live agent of service '" + service + "' can run " + action);
}

Result<CommandRecord> BackupCoordinator::createCommand(const commands::TargetSpec& target,
                                                       const std::string& action, json params,
                                                       const std::string& origin,
                                                       const std::string& by, Millis timeout,
                                                       const std::string& reason) {
  NOA_ASSIGN_OR_RETURN(commands::ResolvedTarget resolved,
                       commands::resolveTarget(agents_(), target, action));
  commands::NewCommand request;
  request.target = std::move(resolved);
  request.action = action;
  request.params = std::move(params);
  request.deadline_ms = nowMs() + timeout.count();
  request.created_by = by;
  request.origin = origin;
  request.reason = reason;
  return commands_.create(request);
}

Result<CommandRecord> BackupCoordinator::startBackup(const BackupJobPolicy* job,
                                                     const std::string& service,
                                                     const std::string& by,
                                                     const std::string& reason) {
  BackupKind kind = job != nullptr ? job->kind : BackupKind::kPgDump;
  BackupTarget target = job != nullptr ? job->target : BackupTarget{"", "primary"};
  const std::string action(backupActionName(kind));
  NOA_ASSIGN_OR_RETURN(commands::TargetSpec spec, chooseTarget(service, target, action));
  json params = job != nullptr ? job->params : json::object();
  const std::string origin =
      std::string(kBackupOrigin) + service + "/" + (job != nullptr ? job->name : "");
  return createCommand(spec, action, std::move(params), origin, by, options_.command_timeout,
                       reason);
}

Result<CommandRecord> BackupCoordinator::backupNow(const std::string& service,
                                                   const std::string& policy,
                                                   const std::string& by) {
  const ServicePolicy* sp = policy_.findService(service);
  const BackupJobPolicy* job = nullptr;
  if (!policy.empty()) {
    job = policy_.findBackup(service, policy);
    if (job == nullptr) {
      return Status::NotFound("service '" + service + "' has no backup policy '" + policy + "'");
    }
  } else if (sp != nullptr) {
    for (const auto& b : sp->backups) {
      if (b.kind == BackupKind::kPgDump) {
        job = &b;
        break;
      }
    }
  }
  return startBackup(job, service, by, "backup now");
}

Result<CommandRecord> BackupCoordinator::restore(const std::string& backup_id,
                                                 const std::string& target_db, bool swap,
                                                 const std::string& by) {
  auto entry = catalog_.get(backup_id);
  if (!entry) return Status::NotFound("no backup '" + backup_id + "'");
  if (entry->kind != BackupKind::kPgDump) {
    return Status::InvalidArgument("backup '" + backup_id +
                                   "' is a volume snapshot: restore it with snapshot.restore "
                                   "while the service is stopped");
  }
  if (entry->status != BackupStatus::kAvailable) {
    return Status::FailedPrecondition("backup '" + backup_id + "' is " +
                                      std::string(backupStatusName(entry->status)) +
                                      (entry->error.empty() ? "" : ": " + entry->error));
  }
  if (target_db.empty()) return Status::InvalidArgument("target_db: required");
  json params = {{"artifact", entry->location},
                 {"sha256", entry->sha256},
                 {"target_db", target_db},
                 {"swap", swap}};
  return createCommand({entry->agent_id, "", ""}, "restore.pg_restore", std::move(params),
                       std::string(kRestoreOrigin) + backup_id, by, options_.command_timeout);
}

Result<CommandRecord> BackupCoordinator::verify(const std::string& backup_id,
                                                const std::string& by) {
  auto entry = catalog_.get(backup_id);
  if (!entry) return Status::NotFound("no backup '" + backup_id + "'");
  if (entry->status == BackupStatus::kPruned || entry->status == BackupStatus::kFailed) {
    return Status::FailedPrecondition("backup '" + backup_id + "' is " +
                                      std::string(backupStatusName(entry->status)) +
                                      ": there is no artifact to verify");
  }
  json params = {{"artifact", entry->location},
                 {"sha256", entry->sha256},
                 {"kind", std::string(backupKindName(entry->kind))}};
  return createCommand({entry->agent_id, "", ""}, "backup.verify", std::move(params),
                       std::string(kVerifyOrigin) + backup_id, by, options_.command_timeout);
}

Result<CommandRecord> BackupCoordinator::drill(const std::string& service,
                                               const std::string& by) {
  const ServicePolicy* sp = policy_.findService(service);
  const DrillPolicy fallback;
  const DrillPolicy& drill = sp != nullptr && sp->drill ? *sp->drill : fallback;
  std::optional<BackupEntry> newest;
  for (const BackupEntry& e : catalog_.list({service, std::nullopt, BackupStatus::kAvailable, 1000})) {
    if (e.kind != BackupKind::kPgDump) continue;
    if (!drill.backup.empty() && e.policy != drill.backup) continue;
    newest = e;  // list() is newest first
    break;
  }
  if (!newest) {
    return Status::FailedPrecondition("service '" + service +
                                      "' has no available pg_dump backup to drill" +
                                      (drill.backup.empty() ? "" : " of policy '" + drill.backup + "'"));
  }
  json params = drill.params.is_object() ? drill.params : json::object();
  params["artifact"] = newest->location;
  params["sha256"] = newest->sha256;
  params["target_db"] = drill.scratch_db;
  params["scratch"] = true;
  return createCommand({newest->agent_id, "", ""}, "restore.pg_restore", std::move(params),
                       std::string(kDrillOrigin) + service + "/" + newest->id, by,
                       options_.command_timeout);
}

Result<BackupEntry> BackupCoordinator::setPinned(const std::string& backup_id, bool pinned) {
  if (!catalog_.get(backup_id)) return Status::NotFound("no backup '" + backup_id + "'");
  return catalog_.setPinned(backup_id, pinned);
}

// ---- results in ----

void BackupCoordinator::catalogFinished() {
  commands::CommandFilter filter;
  filter.limit = options_.scan_limit;
  std::vector<CommandRecord> finished;
  {
    std::lock_guard lock(mu_);
    for (CommandRecord& c : commands_.list(filter)) {
      if (commands::isTerminal(c.state) && handled_.count(c.id) == 0) finished.push_back(std::move(c));
    }
  }
  // Oldest first, so a verify that finished after its backup finds the entry.
  for (auto it = finished.rbegin(); it != finished.rend(); ++it) {
    onFinished(*it);
    std::lock_guard lock(mu_);
    handled_.insert(it->id);
  }
}

void BackupCoordinator::onFinished(const CommandRecord& c) {
  const std::string& origin = c.origin;
  if (kindOfAction(c.action) && (origin.empty() || startsWith(origin, kBackupOrigin))) {
    const std::string policy = origin.empty() ? "" : splitOrigin(origin, kBackupOrigin).second;
    if (c.state == CommandState::kSucceeded) {
      catalogBackup(c, policy);
    } else {
      log::warn("backup did not succeed; nothing cataloged",
                {{"command", c.id}, {"agent", c.agent_id}, {"error", failureText(c)}});
    }
  } else if (startsWith(origin, kVerifyOrigin)) {
    recordVerification(c, origin.substr(kVerifyOrigin.size()));
  } else if (startsWith(origin, kDrillOrigin)) {
    recordDrill(c, splitOrigin(origin, kDrillOrigin).second);
  } else if (startsWith(origin, kRetentionOrigin)) {
    recordPrune(c);
  } else if (startsWith(origin, kRestoreOrigin)) {
    log::info("restore finished", {{"command", c.id},
                                   {"backup", origin.substr(kRestoreOrigin.size())},
                                   {"state", commands::commandStateName(c.state)}});
  }
}

void BackupCoordinator::catalogBackup(const CommandRecord& c, const std::string& policy) {
  for (const BackupEntry& e : catalog_.list({c.service, std::nullopt, std::nullopt, SIZE_MAX})) {
    if (e.command_id == c.id) return;  // cataloged before a restart
  }
  BackupEntry entry;
  entry.service = c.service;
  entry.agent_id = c.agent_id;
  entry.policy = policy;
  entry.kind = *kindOfAction(c.action);
  entry.location = outputString(c, "artifact_path");
  entry.manifest_path = outputString(c, "manifest_path");
  entry.sha256 = outputString(c, "sha256");
  const json& out = c.result->output;
  if (out.contains("bytes") && out["bytes"].is_number_integer()) {
    entry.size_bytes = out["bytes"].get<uint64_t>();
  }
  entry.command_id = c.id;
  entry.started_ms = timeOf(c, CommandState::kRunning);
  if (entry.started_ms == 0) entry.started_ms = c.created_ms;
  entry.finished_ms = finishedAt(c);
  if (entry.location.empty() || entry.sha256.empty()) {
    log::error("backup result without artifact path or sha256; not cataloged",
               {{"command", c.id}, {"output", out}});
    return;
  }
  if (out.value("verified", false)) {
    entry.verifications.push_back(
        {entry.finished_ms, true, "verified after writing (re-hash, pg_restore --list)", c.id});
  }
  auto added = catalog_.add(std::move(entry));
  if (!added.ok()) {
    log::error("cannot catalog a backup", {{"command", c.id}, {"error", added.status().toString()}});
    std::lock_guard lock(mu_);
    handled_.erase(c.id);  // try again next tick
    return;
  }
  log::info("backup cataloged", {{"backup", added->id},
                                 {"service", added->service},
                                 {"policy", added->policy},
                                 {"bytes", added->size_bytes},
                                 {"location", added->location}});
}

void BackupCoordinator::recordVerification(const CommandRecord& c, const std::string& backup_id) {
  auto entry = catalog_.get(backup_id);
  if (!entry) return;
  for (const auto& v : entry->verifications) {
    if (v.command_id == c.id) return;
  }
  const bool ok = c.state == CommandState::kSucceeded;
  BackupVerification v{finishedAt(c), ok, ok ? "sha256 and contents verified" : failureText(c), c.id};
  const std::string code = c.result ? c.result->error_code : "";
  // The artifact itself is bad (or gone): no restore may rely on it. A timeout or a cancel
  // says nothing about the artifact.
  const bool corrupt = code == "checksum_mismatch" || code == "verify_failed" || code == "io_error";
  auto changed = catalog_.modify(backup_id, [&](BackupEntry& e) {
    e.verifications.push_back(v);
    if (corrupt && e.status == BackupStatus::kAvailable) {
      e.status = BackupStatus::kCorrupt;
      e.error = v.detail;
    }
    return Status::Ok();
  });
  if (!changed.ok()) {
    log::error("cannot record a verification",
               {{"backup", backup_id}, {"error", changed.status().toString()}});
    return;
  }
  const log::Fields fields = {{"backup", backup_id}, {"ok", ok}, {"detail", v.detail}};
  if (corrupt) {
    log::error("backup is corrupt", fields);
  } else {
    log::info("backup verified", fields);
  }
}

void BackupCoordinator::recordDrill(const CommandRecord& c, const std::string& backup_id) {
  auto entry = catalog_.get(backup_id);
  if (!entry) return;
  for (const auto& d : entry->drills) {
    if (d.command_id == c.id) return;
  }
  const ServicePolicy* sp = policy_.findService(entry->service);
  const int64_t rto = sp != nullptr && sp->drill ? sp->drill->rto_target_ms : kDefaultRtoTargetMs;
  BackupDrill d;
  d.ts_ms = finishedAt(c);
  d.ok = c.state == CommandState::kSucceeded;
  d.restore_ms = c.result ? static_cast<int64_t>(c.result->duration_ms) : 0;
  d.rto_target_ms = rto;
  d.rto_met = d.ok && d.restore_ms <= rto;
  d.command_id = c.id;
  if (d.ok) {
    size_t tables = 0;
    if (c.result->output.contains("tables") && c.result->output["tables"].is_object()) {
      tables = c.result->output["tables"].size();
    }
    d.detail = "restored " + std::to_string(tables) + (tables == 1 ? " table" : " tables") +
               " in " + std::to_string(d.restore_ms) + " ms (RTO target " + formatAge(rto) + ")";
  } else {
    d.detail = failureText(c);
  }
  auto added = catalog_.addDrill(backup_id, d);
  if (!added.ok()) {
    log::error("cannot record a drill", {{"backup", backup_id}, {"error", added.status().toString()}});
    return;
  }
  const log::Fields fields = {{"backup", backup_id},
                              {"ok", d.ok},
                              {"restore_ms", d.restore_ms},
                              {"rto_met", d.rto_met},
                              {"detail", d.detail}};
  if (d.rto_met) {
    log::info("restore drill finished", fields);
  } else {
    log::error("restore drill failed or missed its RTO target", fields);
  }
}

void BackupCoordinator::recordPrune(const CommandRecord& c) {
  if (c.state != CommandState::kSucceeded || !c.result) {
    log::warn("retention prune did not succeed", {{"command", c.id}, {"error", failureText(c)}});
    return;
  }
  // What the agent deleted, and what it could not find (gone already): both are pruned now.
  std::map<std::string, std::string> gone;  // artifact name -> how
  const json& out = c.result->output;
  if (out.contains("deleted") && out["deleted"].is_array()) {
    for (const auto& d : out["deleted"]) {
      gone[d.value("name", "")] = "pruned by retention (" + c.id + "; its history says why)";
    }
  }
  if (out.contains("kept") && out["kept"].is_array()) {
    for (const auto& k : out["kept"]) {
      if (k.value("reason", "") == "not_found") gone[k.value("name", "")] = "not found on the agent";
    }
  }
  const std::string dir = c.params.value("backup_dir", "");
  for (const BackupEntry& e : catalog_.list({c.service, std::nullopt, std::nullopt, SIZE_MAX})) {
    if (e.agent_id != c.agent_id || e.status == BackupStatus::kPruned) continue;
    const std::filesystem::path location(e.location);
    if (location.parent_path().string() != dir) continue;
    auto it = gone.find(location.filename().string());
    if (it == gone.end()) continue;
    auto changed = catalog_.modify(e.id, [&](BackupEntry& m) {
      m.status = BackupStatus::kPruned;
      m.error = m.error.empty() ? it->second : m.error + "; " + it->second;
      return Status::Ok();
    });
    if (!changed.ok()) {
      log::error("cannot mark a backup pruned", {{"backup", e.id}, {"error", changed.status().toString()}});
    }
  }
}

// ---- schedules and retention ----

void BackupCoordinator::runSchedules() {
  ScheduleTick tick_result;
  {
    std::lock_guard lock(mu_);
    tick_result = dueJobs(policy_, schedule_, nowMs());
    if (!(tick_result.state == schedule_)) {
      if (Status saved = catalog_.saveScheduleState(tick_result.state); !saved.ok()) {
        log::error("cannot store the backup schedule state", {{"error", saved.toString()}});
        return;  // nothing fires until its watermark can be stored: no double runs
      }
      schedule_ = tick_result.state;
    }
  }
  for (const DueJob& job : tick_result.due) {
    Result<CommandRecord> created = Status::Internal("unknown job");
    if (job.key.kind == JobKind::kBackup) {
      created = startBackup(policy_.findBackup(job.key.service, job.key.policy), job.key.service,
                            "scheduler", job.reason);
    } else {
      created = drill(job.key.service, "scheduler");
    }
    if (!created.ok()) {
      log::error("scheduled job could not start", {{"job", jobKeyName(job.key)},
                                                   {"reason", job.reason},
                                                   {"error", created.status().toString()}});
      continue;
    }
    log::info("scheduled job started", {{"job", jobKeyName(job.key)},
                                        {"command", created->id},
                                        {"missed", job.missed},
                                        {"reason", job.reason}});
  }
}

std::set<std::string> BackupCoordinator::inUse(std::set<std::string>* busy_origins) const {
  std::set<std::string> ids;
  commands::CommandFilter filter;
  filter.limit = options_.scan_limit;
  for (const CommandRecord& c : commands_.list(filter)) {
    if (commands::isTerminal(c.state)) continue;
    if (busy_origins != nullptr) busy_origins->insert(c.origin);
    if (startsWith(c.origin, kRestoreOrigin)) ids.insert(c.origin.substr(kRestoreOrigin.size()));
    if (startsWith(c.origin, kVerifyOrigin)) ids.insert(c.origin.substr(kVerifyOrigin.size()));
    if (startsWith(c.origin, kDrillOrigin)) ids.insert(splitOrigin(c.origin, kDrillOrigin).second);
  }
  return ids;
}

void BackupCoordinator::applyRetention() {
  std::set<std::string> busy;
  const std::set<std::string> in_use = inUse(&busy);
  const int64_t now = nowMs();
  for (const ServicePolicy& sp : policy_.services) {
    for (const BackupJobPolicy& job : sp.backups) {
      const std::string origin = std::string(kRetentionOrigin) + sp.service + "/" + job.name;
      if (busy.count(origin) != 0) continue;  // one prune at a time per policy
      const std::vector<BackupEntry> entries = catalog_.entriesOf(sp.service, job.name);
      if (entries.empty()) continue;
      const RetentionDecision decision = decideRetention(entries, job.retention, now, in_use);
      if (decision.prune_ids.empty()) continue;
      // One prune per agent and directory (an artifact lives where its agent wrote it).
      std::map<std::pair<std::string, std::string>, json> by_place;
      std::map<std::string, std::string> reasons;
      std::string why;  // every entry's verdict, in the prune command's history
      for (const auto& item : decision.items) {
        reasons[item.id] = item.reason;
        why += (why.empty() ? "" : "; ") + item.id + " " + item.reason;
      }
      for (const BackupEntry& e : entries) {
        const std::filesystem::path location(e.location);
        const auto place = std::make_pair(e.agent_id, location.parent_path().string());
        json& p = by_place[place];
        if (p.is_null()) {
          p = {{"backup_dir", place.second}, {"artifacts", json::array()},
               {"pinned", json::array()}, {"in_use", json::array()}};
        }
        const bool prune = std::find(decision.prune_ids.begin(), decision.prune_ids.end(), e.id) !=
                           decision.prune_ids.end();
        if (prune) p["artifacts"].push_back(location.filename().string());
        if (e.pinned) p["pinned"].push_back(location.filename().string());
        if (in_use.count(e.id) != 0) p["in_use"].push_back(location.filename().string());
        log::info("retention decision", {{"backup", e.id},
                                         {"policy", sp.service + "/" + job.name},
                                         {"prune", prune},
                                         {"reason", reasons[e.id]}});
      }
      for (auto& [place, params] : by_place) {
        if (params["artifacts"].empty()) continue;
        auto created = createCommand({place.first, "", ""}, "retention.prune", params, origin,
                                     "retention", options_.prune_timeout, why);
        if (!created.ok()) {
          log::warn("retention prune could not start",
                    {{"policy", sp.service + "/" + job.name}, {"agent", place.first},
                     {"error", created.status().toString()}});
        }
      }
    }
  }
}

// ---- status ----

std::vector<ServiceBackupStatus> BackupCoordinator::status() const {
  std::map<std::string, ServiceBackupStatus> out;
  for (const ServicePolicy& sp : policy_.services) {
    auto& s = out[sp.service];
    s.service = sp.service;
    s.has_policy = true;
    s.rpo.rpo_target_ms = sp.rpo_target_ms;
    s.rto_target_ms = sp.drill ? sp.drill->rto_target_ms : 0;
  }
  std::map<std::string, std::vector<BackupEntry>> by_service;
  for (const BackupEntry& e : catalog_.list({"", std::nullopt, std::nullopt, SIZE_MAX})) {
    by_service[e.service].push_back(e);
  }
  const int64_t now = nowMs();
  for (auto& [service, entries] : by_service) {
    auto& s = out[service];
    s.service = service;
    for (const auto& e : entries) {
      if (e.status == BackupStatus::kAvailable) s.available++;
      for (const auto& d : e.drills) {
        if (!s.last_drill || d.ts_ms > s.last_drill->ts_ms) {
          s.last_drill = d;
          s.last_drill_backup_id = e.id;
        }
      }
    }
  }
  std::vector<ServiceBackupStatus> result;
  for (auto& [service, s] : out) {
    const ServicePolicy* sp = policy_.findService(service);
    const int64_t rpo = sp != nullptr ? sp->rpo_target_ms : kDefaultRpoTargetMs;
    s.rpo = rpoStatus(by_service[service], rpo, now);
    result.push_back(std::move(s));
  }
  return result;
}

}  // namespace noa::controller::backups
