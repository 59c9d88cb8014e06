#pragma once

// When to run scheduled backups and restore drills, and whether the newest backup still meets
// the recovery point objective: pure functions of (policy, state, now), no clock, no store.
//
// The state is one watermark per job: every slot (fire time of the job's cron schedule) up to
// it has been dealt with. A job is due when a slot lies in (watermark, now]:
//  - several slots in that window fire ONCE: after an outage of three days a daily backup runs
//    one time, not three (no catch-up storm), and the DueJob says how many runs were missed;
//  - a job seen for the first time (not in the state) starts at now: it does not fire on the
//    controller's first tick, only when its first slot passes after that;
//  - a watermark in the future (the wall clock went back) is reset to now, so the job follows
//    the corrected clock instead of waiting for the old future time;
//  - jobs that are no longer in the policy are dropped from the state (re-added = first sight).
// The caller stores `ScheduleTick::state` (BackupCatalog::saveScheduleState) after it has
// created the commands of `due`: a crash in between repeats a run (harmless: one backup more)
// rather than losing one.
//
// Times are unix ms, UTC, the controller's wall clock (cron slots are wall-clock times).

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "controller/backups/backup_entry.h"
#include "controller/backups/backup_policy.h"

namespace noa::controller::backups {

enum class JobKind { kBackup, kDrill };

struct JobKey {
  std::string service;
  JobKind kind = JobKind::kBackup;
  std::string policy;  // the backup policy's name; "" for the service's drill
  auto operator<=>(const JobKey&) const = default;
};

// "postgres/backup/nightly-dump", "postgres/drill".
std::string jobKeyName(const JobKey& key);

struct ScheduleState {
  std::map<JobKey, int64_t> watermark_ms;  // slots up to here are dealt with
  bool operator==(const ScheduleState&) const = default;
};

// Slots in one window are counted up to this many (a per-minute schedule after a year away).
inline constexpr uint32_t kMaxCountedSlots = 100'000;
// A slot whose run starts later than this after it is counted as missed.
inline constexpr int64_t kDefaultOnTimeGraceMs = 5 * 60'000;

struct DueJob {
  JobKey key;
  int64_t slot_ms = 0;  // the newest slot in the window: the one this run stands for
  uint32_t slots = 0;   // slots in (watermark, now]; >= 1
  // Runs that did not happen at their time: every slot but the newest (they get no run at
  // all), plus the newest when it runs more than the grace late. 0 for an on-time run.
  uint32_t missed = 0;
  int64_t late_ms = 0;  // now - slot_ms
  std::string reason;   // "slot 2026-11-22T03:00:00.000Z, 3 missed since ..."
};

struct ScheduleTick {
  std::vector<DueJob> due;         // ordered by key
  ScheduleState state;             // what to store: every job of the policy with its new watermark
  std::vector<JobKey> first_seen;  // jobs that were not in the given state
};

ScheduleTick dueJobs(const PolicyFile& policy, const ScheduleState& last_fired, int64_t now_ms,
                     int64_t on_time_grace_ms = kDefaultOnTimeGraceMs);

// ---- recovery point objective ----

struct RpoStatus {
  bool has_backup = false;  // an available backup exists
  std::string newest_id;
  // The newest backup's recovery point: when its data was taken (started_ms, the agent's
  // clock, since pg_dump reads one snapshot as of its start), created_ms when unknown.
  int64_t newest_point_ms = 0;
  int64_t age_ms = 0;  // now - newest_point_ms
  int64_t rpo_target_ms = 0;
  bool ok = false;     // has_backup && age_ms <= rpo_target_ms
  std::string reason;  // "no backup yet", "newest backup bk-... is 10m old <= rpo_target 15m"
};

// The newest available entry (verified or not) of `entries` against the target. Failed,
// corrupt and pruned entries are not recovery points.
RpoStatus rpoStatus(const std::vector<BackupEntry>& entries, int64_t rpo_target_ms, int64_t now_ms);

// ---- state encoding (one record of the `backups` family, schemas/store.md) ----

std::string encodeScheduleState(const ScheduleState& state);
// Corruption naming the field.
Result<ScheduleState> decodeScheduleState(std::string_view bytes);

}  // namespace noa::controller::backups
