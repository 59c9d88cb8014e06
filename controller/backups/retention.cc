#include "controller/backups/retention.h"

#include <algorithm>
#include <array>

#include "common/duration.h"

namespace noa::controller::backups {

std::string formatAge(int64_t ms) {
  if (ms < 0) ms = 0;
  struct Unit {
    int64_t ms;
    const char* suffix;
  };
  static constexpr std::array<Unit, 4> kUnits = {
      {{86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}}};
  std::string out;
  int shown = 0;
  for (const Unit& unit : kUnits) {
    const int64_t n = ms / unit.ms;
    if (n == 0 && out.empty()) continue;
    if (n != 0) out += std::to_string(n) + unit.suffix;
    ms -= n * unit.ms;
    if (++shown == 2) break;
  }
  return out.empty() ? std::to_string(ms) + "ms" : out;
}

RetentionDecision decideRetention(const std::vector<BackupEntry>& entries,
                                  const RetentionPolicy& policy, int64_t now_ms,
                                  const std::set<std::string>& in_use_ids) {
  std::vector<const BackupEntry*> newest_first;
  newest_first.reserve(entries.size());
  for (const auto& e : entries) newest_first.push_back(&e);
  std::sort(newest_first.begin(), newest_first.end(),
            [](const BackupEntry* a, const BackupEntry* b) {
              if (a->created_ms != b->created_ms) return a->created_ms > b->created_ms;
              return a->id > b->id;
            });

  const std::string max_age = formatDuration(std::chrono::milliseconds(policy.max_age_ms));
  RetentionDecision decision;
  uint32_t available_seen = 0;
  for (const BackupEntry* e : newest_first) {
    RetentionItem item{e->id, RetentionAction::kKeep, ""};
    const bool available = e->status == BackupStatus::kAvailable;
    const bool among_newest = available && available_seen < policy.min_count;
    if (available) available_seen++;
    const int64_t age_ms = now_ms - e->created_ms;
    const std::string age = formatAge(age_ms);
    const std::string corrupt = e->status == BackupStatus::kCorrupt ? "corrupt, " : "";

    if (e->status == BackupStatus::kPruned) {
      item = {e->id, RetentionAction::kSkip, "skipped: already pruned"};
    } else if (e->status == BackupStatus::kFailed) {
      item = {e->id, RetentionAction::kSkip, "skipped: failed, no artifact"};
    } else if (e->pinned) {
      item.reason = "kept: pinned";
    } else if (in_use_ids.count(e->id) != 0) {
      item.reason = "kept: in use";
    } else if (among_newest) {
      item.reason = "kept: among the newest " + std::to_string(policy.min_count);
    } else if (age_ms > policy.max_age_ms) {
      item = {e->id, RetentionAction::kPrune,
              "pruned: " + corrupt + age + " old > max_age " + max_age};
    } else {
      item.reason = "kept: " + corrupt + age + " old <= max_age " + max_age;
      if (!available) item.reason += " (not counted towards min_count)";
    }

    if (item.action == RetentionAction::kPrune) decision.prune_ids.push_back(item.id);
    if (item.action == RetentionAction::kKeep) decision.kept++;
    decision.items.push_back(std::move(item));
  }
  return decision;
}

}  // namespace noa::controller::backups
