#include "controller/backups/backup_schedule.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/clock.h"
#include "common/duration.h"

namespace noa::controller::backups {
namespace {

constexpr int kStateRecordVersion = 1;

std::string utc(int64_t unix_ms) { return formatRfc3339(fromUnixMillis(unix_ms)); }

// The newest slot in (after_ms, now_ms], searched in growing windows back from now, so a dense
// schedule costs few steps and a sparse one few windows.
std::optional<int64_t> newestSlot(const CronSchedule& schedule, int64_t after_ms, int64_t now_ms) {
  static constexpr std::array<int64_t, 5> kSpansMs = {3'600'000, 86'400'000, 32 * 86'400'000LL,
                                                      367 * 86'400'000LL, 146'097 * 86'400'000LL};
  for (const int64_t span : kSpansMs) {
    const int64_t from = std::max(after_ms, now_ms - span);
    std::optional<int64_t> newest;
    for (auto slot = schedule.next(from); slot && *slot <= now_ms; slot = schedule.next(*slot)) {
      newest = slot;
    }
    if (newest || from == after_ms) return newest;
  }
  return std::nullopt;
}

void consider(const JobKey& key, const CronSchedule& schedule, const ScheduleState& last,
              int64_t now_ms, int64_t grace_ms, ScheduleTick& tick) {
  tick.state.watermark_ms[key] = now_ms;
  const auto it = last.watermark_ms.find(key);
  if (it == last.watermark_ms.end()) {
    tick.first_seen.push_back(key);
    return;
  }
  const int64_t watermark = it->second;
  if (watermark >= now_ms) return;  // nothing new, or the clock went back: continue from now

  uint32_t slots = 0;
  int64_t newest = 0;
  for (auto slot = schedule.next(watermark); slot && *slot <= now_ms; slot = schedule.next(*slot)) {
    newest = *slot;
    if (++slots == kMaxCountedSlots) {
      newest = newestSlot(schedule, watermark, now_ms).value_or(newest);
      break;
    }
  }
  if (slots == 0) return;
  DueJob job;
  job.key = key;
  job.slot_ms = newest;
  job.slots = slots;
  job.late_ms = now_ms - newest;
  job.missed = slots - 1 + (job.late_ms > grace_ms ? 1 : 0);
  job.reason = "slot " + utc(newest);
  if (job.missed > 0) {
    job.reason += ", " + std::to_string(job.missed) + (slots == kMaxCountedSlots ? "+" : "") +
                  " missed since " + utc(watermark) + " (runs once now)";
  }
  tick.due.push_back(std::move(job));
}

}  // namespace

std::string jobKeyName(const JobKey& key) {
  if (key.kind == JobKind::kDrill) return key.service + "/drill";
  return key.service + "/backup/" + key.policy;
}

ScheduleTick dueJobs(const PolicyFile& policy, const ScheduleState& last_fired, int64_t now_ms,
                     int64_t on_time_grace_ms) {
  ScheduleTick tick;
  for (const ServicePolicy& service : policy.services) {
    for (const BackupJobPolicy& backup : service.backups) {
      consider({service.service, JobKind::kBackup, backup.name}, backup.schedule, last_fired,
               now_ms, on_time_grace_ms, tick);
    }
    if (service.drill) {
      consider({service.service, JobKind::kDrill, ""}, service.drill->schedule, last_fired, now_ms,
               on_time_grace_ms, tick);
    }
  }
  std::sort(tick.due.begin(), tick.due.end(),
            [](const DueJob& a, const DueJob& b) { return a.key < b.key; });
  return tick;
}

RpoStatus rpoStatus(const std::vector<BackupEntry>& entries, int64_t rpo_target_ms,
                    int64_t now_ms) {
  RpoStatus out;
  out.rpo_target_ms = rpo_target_ms;
  const BackupEntry* newest = nullptr;
  int64_t newest_point = 0;
  for (const BackupEntry& e : entries) {
    if (e.status != BackupStatus::kAvailable) continue;
    const int64_t point = e.started_ms > 0 ? e.started_ms : e.created_ms;
    if (newest == nullptr || point > newest_point ||
        (point == newest_point && e.created_ms > newest->created_ms)) {
      newest = &e;
      newest_point = point;
    }
  }
  const std::string target = formatDuration(std::chrono::milliseconds(rpo_target_ms));
  if (newest == nullptr) {
    out.reason = "no backup yet (rpo_target " + target + ")";
    return out;
  }
  out.has_backup = true;
  out.newest_id = newest->id;
  out.newest_point_ms = newest_point;
  out.age_ms = std::max<int64_t>(0, now_ms - newest_point);  // an agent clock ahead: age 0
  out.ok = out.age_ms <= rpo_target_ms;
  out.reason = "newest backup " + newest->id + " is " + formatAge(out.age_ms) + " old " +
               (out.ok ? "<= " : "> ") + "rpo_target " + target;
  return out;
}

std::string encodeScheduleState(const ScheduleState& state) {
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& [key, watermark] : state.watermark_ms) {
    jobs.push_back({{"service", key.service},
                    {"kind", key.kind == JobKind::kDrill ? "drill" : "backup"},
                    {"policy", key.policy},
                    {"watermark_ms", watermark}});
  }
  const nlohmann::json j = {{"rv", kStateRecordVersion}, {"jobs", std::move(jobs)}};
  const std::vector<uint8_t> bytes = nlohmann::json::to_msgpack(j);
  return std::string(bytes.begin(), bytes.end());
}

Result<ScheduleState> decodeScheduleState(std::string_view bytes) {
  using nlohmann::json;
  const json j = json::from_msgpack(bytes.begin(), bytes.end(), /*strict=*/true,
                                    /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption("schedule state: not MessagePack");
  if (!j.is_object()) return Status::Corruption("schedule state: expected a map");
  const auto rv = j.find("rv");
  if (rv == j.end() || !rv->is_number_integer()) {
    return Status::Corruption("schedule state: rv: required integer");
  }
  if (rv->get<int64_t>() > kStateRecordVersion) {
    return Status::Corruption("schedule state: version " + std::to_string(rv->get<int64_t>()) +
                              " is newer than this binary's " +
                              std::to_string(kStateRecordVersion));
  }
  const auto jobs = j.find("jobs");
  if (jobs == j.end() || !jobs->is_array()) {
    return Status::Corruption("schedule state: jobs: required array");
  }
  ScheduleState state;
  for (size_t i = 0; i < jobs->size(); ++i) {
    const json& job = (*jobs)[i];
    const std::string path = "schedule state: jobs[" + std::to_string(i) + "]";
    if (!job.is_object()) return Status::Corruption(path + ": expected a map");
    for (const char* key : {"service", "kind", "policy"}) {
      if (!job.contains(key) || !job[key].is_string()) {
        return Status::Corruption(path + "." + key + ": required string");
      }
    }
    if (!job.contains("watermark_ms") || !job["watermark_ms"].is_number_integer()) {
      return Status::Corruption(path + ".watermark_ms: required integer");
    }
    const std::string kind = job["kind"].get<std::string>();
    if (kind != "backup" && kind != "drill") {
      return Status::Corruption(path + ".kind: unknown kind '" + kind + "'");
    }
    JobKey key{job["service"].get<std::string>(),
               kind == "drill" ? JobKind::kDrill : JobKind::kBackup,
               job["policy"].get<std::string>()};
    state.watermark_ms[std::move(key)] = job["watermark_ms"].get<int64_t>();
  }
  return state;
}

}  // namespace noa::controller::backups
