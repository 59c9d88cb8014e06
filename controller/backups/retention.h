#pragma once

// Which backups of one policy to delete: a pure function of the catalog entries, the policy
// and the time, that gives every entry a reason (shown by a dry run and logged when applied).
//
// Retention = keep by count AND by age (reference section 6, wal-g#1245): the newest
// `min_count` available backups are always kept however old they are, so a service whose
// backups stopped never loses its last good ones; beyond those, available backups older than
// `max_age` go. Rules, in this order, for each entry (newest first by catalog time, created_ms;
// never by artifact file time or name, wal-g#636):
//   pruned            nothing to do                      "skipped: already pruned"
//   failed            no artifact; not counted           "skipped: failed, no artifact"
//   pinned            never pruned                       "kept: pinned"
//   in use            never pruned (a restore or drill   "kept: in use"
//                     reads it, barman#200)
//   available, among the newest min_count available      "kept: among the newest 3"
//   older than max_age                                   "pruned: 31d old > max_age 30d"
//   otherwise                                            "kept: 5d old <= max_age 30d"
// Pinned and in-use available entries still count towards min_count (they are good backups).
// Corrupt entries never count towards min_count; they follow max_age like the others
// ("pruned: corrupt, 31d old > max_age 30d"), because an artifact that failed verification
// only takes space, but a recent one is kept for a person to look at.

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "controller/backups/backup_entry.h"

namespace noa::controller::backups {

struct RetentionPolicy {
  int64_t max_age_ms = 0;  // > 0
  uint32_t min_count = 0;  // >= 1 in a loaded policy file
  bool operator==(const RetentionPolicy&) const = default;
};

enum class RetentionAction {
  kKeep,
  kPrune,
  kSkip,  // already pruned, or failed: nothing on disk to keep or delete
};

struct RetentionItem {
  std::string id;
  RetentionAction action = RetentionAction::kKeep;
  std::string reason;
};

struct RetentionDecision {
  std::vector<RetentionItem> items;    // one per entry, newest first
  std::vector<std::string> prune_ids;  // the kPrune items' ids, newest first
  size_t kept = 0;
};

// REQUIRES: `entries` belong to one service and one policy (any order).
RetentionDecision decideRetention(const std::vector<BackupEntry>& entries,
                                  const RetentionPolicy& policy, int64_t now_ms,
                                  const std::set<std::string>& in_use_ids);

// An age for reasons: the two largest whole units, "31d", "30d5h", "2h15m", "45s".
std::string formatAge(int64_t ms);

}  // namespace noa::controller::backups
