// decideRetention: count AND age, pinned and in-use never pruned, failed and corrupt not
// counted, order by catalog time whatever the artifact times say, a reason for every entry.

#include "controller/backups/retention.h"

#include <gtest/gtest.h>

#include "tests/unit/controller/backups/backup_test_util.h"

namespace noa::controller::backups {
namespace {

using testing::kDay;
using testing::kHour;
using testing::sampleEntry;

constexpr int64_t kNow = 1'790'000'000'000;
const RetentionPolicy kThirtyDaysKeepThree{30 * kDay, 3};

// Entry "bN" created N days before now.
BackupEntry daysOld(int days, BackupStatus status = BackupStatus::kAvailable) {
  return sampleEntry("b" + std::to_string(days), kNow - days * kDay, status);
}

std::map<std::string, RetentionItem> byId(const RetentionDecision& d) {
  std::map<std::string, RetentionItem> out;
  for (const auto& item : d.items) out[item.id] = item;
  return out;
}

TEST(Retention, KeepsTheNewestMinCountEvenWhenAllAreOld) {
  const std::vector<BackupEntry> entries = {daysOld(100), daysOld(90), daysOld(80), daysOld(70),
                                            daysOld(60)};
  const RetentionDecision d = decideRetention(entries, kThirtyDaysKeepThree, kNow, {});
  EXPECT_EQ(d.prune_ids, (std::vector<std::string>{"b90", "b100"}));
  EXPECT_EQ(d.kept, 3u);
  const auto items = byId(d);
  EXPECT_EQ(items.at("b60").reason, "kept: among the newest 3");
  EXPECT_EQ(items.at("b80").reason, "kept: among the newest 3");
  EXPECT_EQ(items.at("b90").reason, "pruned: 90d old > max_age 30d");
  EXPECT_EQ(items.at("b90").action, RetentionAction::kPrune);
  // Newest first.
  EXPECT_EQ(d.items.front().id, "b60");
  EXPECT_EQ(d.items.back().id, "b100");
}

TEST(Retention, AgeDecidesBeyondTheMinimum) {
  const std::vector<BackupEntry> entries = {daysOld(1), daysOld(2),  daysOld(3),
                                            daysOld(5), daysOld(31), daysOld(30)};
  const RetentionDecision d = decideRetention(entries, kThirtyDaysKeepThree, kNow, {});
  const auto items = byId(d);
  EXPECT_EQ(items.at("b5").reason, "kept: 5d old <= max_age 30d");
  EXPECT_EQ(items.at("b30").reason, "kept: 30d old <= max_age 30d");  // not older than max_age
  EXPECT_EQ(items.at("b31").reason, "pruned: 31d old > max_age 30d");
  EXPECT_EQ(d.prune_ids, (std::vector<std::string>{"b31"}));
}

TEST(Retention, PinnedIsNeverPruned) {
  std::vector<BackupEntry> entries = {daysOld(1), daysOld(2), daysOld(3), daysOld(400)};
  entries[3].pinned = true;
  const RetentionDecision d = decideRetention(entries, kThirtyDaysKeepThree, kNow, {});
  EXPECT_TRUE(d.prune_ids.empty());
  EXPECT_EQ(byId(d).at("b400").reason, "kept: pinned");
  EXPECT_EQ(byId(d).at("b400").action, RetentionAction::kKeep);
}

TEST(Retention, InUseIsNeverPruned) {
  const std::vector<BackupEntry> entries = {daysOld(1), daysOld(2), daysOld(3), daysOld(40),
                                            daysOld(50)};
  const RetentionDecision d = decideRetention(entries, kThirtyDaysKeepThree, kNow, {"b40"});
  EXPECT_EQ(d.prune_ids, (std::vector<std::string>{"b50"}));
  EXPECT_EQ(byId(d).at("b40").reason, "kept: in use");
}

TEST(Retention, PinnedAndInUseStillCountTowardsTheMinimum) {
  std::vector<BackupEntry> entries = {daysOld(40), daysOld(50), daysOld(60), daysOld(70)};
  entries[0].pinned = true;
  const RetentionDecision d = decideRetention(entries, kThirtyDaysKeepThree, kNow, {"b50"});
  const auto items = byId(d);
  EXPECT_EQ(items.at("b40").reason, "kept: pinned");
  EXPECT_EQ(items.at("b50").reason, "kept: in use");
  EXPECT_EQ(items.at("b60").reason, "kept: among the newest 3");
  EXPECT_EQ(items.at("b70").reason, "pruned: 70d old > max_age 30d");
}

TEST(Retention, FailedAndCorruptDoNotCountTowardsTheMinimum) {
  const std::vector<BackupEntry> entries = {daysOld(1, BackupStatus::kFailed),
                                            daysOld(2, BackupStatus::kFailed),
                                            daysOld(3, BackupStatus::kCorrupt),
                                            daysOld(40),
                                            daysOld(50),
                                            daysOld(60),
                                            daysOld(70),
                                            daysOld(45, BackupStatus::kCorrupt),
                                            daysOld(80, BackupStatus::kPruned)};
  const RetentionDecision d = decideRetention(entries, kThirtyDaysKeepThree, kNow, {});
  const auto items = byId(d);
  EXPECT_EQ(items.at("b1").reason, "skipped: failed, no artifact");
  EXPECT_EQ(items.at("b1").action, RetentionAction::kSkip);
  EXPECT_EQ(items.at("b3").reason,
            "kept: corrupt, 3d old <= max_age 30d (not counted towards min_count)");
  EXPECT_EQ(items.at("b40").reason, "kept: among the newest 3");
  EXPECT_EQ(items.at("b60").reason, "kept: among the newest 3");
  EXPECT_EQ(items.at("b70").reason, "pruned: 70d old > max_age 30d");
  EXPECT_EQ(items.at("b45").reason, "pruned: corrupt, 45d old > max_age 30d");
  EXPECT_EQ(items.at("b80").reason, "skipped: already pruned");
  EXPECT_EQ(items.at("b80").action, RetentionAction::kSkip);
  EXPECT_EQ(d.prune_ids, (std::vector<std::string>{"b45", "b70"}));
  EXPECT_EQ(d.kept, 4u);
}

TEST(Retention, OrdersByCatalogTimeNotArtifactTimes) {
  // Artifact (agent) times say the reverse of the catalog: an agent clock ran wrong.
  std::vector<BackupEntry> entries = {daysOld(40), daysOld(50), daysOld(60), daysOld(70)};
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].started_ms = kNow - static_cast<int64_t>(100 - i * 20) * kDay;
    entries[i].finished_ms = entries[i].started_ms + kHour;
  }
  // Ids that sort the other way round too.
  entries[0].id = "z-newest";
  entries[3].id = "a-oldest";
  const RetentionDecision d = decideRetention(entries, RetentionPolicy{30 * kDay, 2}, kNow, {});
  EXPECT_EQ(d.prune_ids, (std::vector<std::string>{"b60", "a-oldest"}));
  EXPECT_EQ(d.items.front().id, "z-newest");
}

TEST(Retention, EmptyInputDecidesNothing) {
  const RetentionDecision d = decideRetention({}, kThirtyDaysKeepThree, kNow, {});
  EXPECT_TRUE(d.items.empty());
  EXPECT_TRUE(d.prune_ids.empty());
}

TEST(Retention, AgesReadInTwoUnits) {
  EXPECT_EQ(formatAge(31 * kDay), "31d");
  EXPECT_EQ(formatAge(30 * kDay + 5 * kHour + 10 * 60'000), "30d5h");
  EXPECT_EQ(formatAge(2 * kHour + 15 * 60'000 + 3000), "2h15m");
  EXPECT_EQ(formatAge(kHour + 30'000), "1h");
  EXPECT_EQ(formatAge(45'000), "45s");
  EXPECT_EQ(formatAge(250), "250ms");
  EXPECT_EQ(formatAge(-5), "0ms");
}

}  // namespace
}  // namespace noa::controller::backups
