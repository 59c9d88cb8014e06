// dueJobs under a fake clock (ticked like the controller would), rpoStatus, and the stored
// form of the schedule state.

#include "controller/backups/backup_schedule.h"

#include <gtest/gtest.h>

#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/backups/backup_test_util.h"

namespace noa::controller::backups {
namespace {

using namespace std::chrono_literals;
using testing::kDay;
using testing::kHour;
using testing::kMinute;
using testing::sampleEntry;
using testing::utcMs;

const JobKey kDump{"postgres", JobKind::kBackup, "nightly-dump"};
const JobKey kDrill{"postgres", JobKind::kDrill, ""};

PolicyFile policy() {
  auto parsed = parsePolicyYaml(R"(
services:
  postgres:
    backups:
      - {name: nightly-dump, kind: pg_dump, schedule: "0 3 * * *", params: {dbname: app}}
    drill: {schedule: "0 4 * * 0", scratch_db: noa_drill}
)");
  EXPECT_OK(parsed);
  return parsed.ok() ? std::move(parsed).value() : PolicyFile{};
}

// Ticks dueJobs on a fake clock and keeps the returned state, as the controller will.
class ScheduleTest : public ::testing::Test {
 protected:
  // 2026-11-20 is a Friday.
  void SetUp() override { setWall(utcMs(2026, 11, 20, 12, 0)); }

  void setWall(int64_t unix_ms) { clock_.jumpWall(std::chrono::milliseconds(unix_ms - now())); }
  int64_t now() const { return toUnixMillis(clock_.wallNow()); }

  std::vector<DueJob> tick() {
    ScheduleTick t = dueJobs(policy_, state_, now());
    state_ = t.state;
    first_seen_ = t.first_seen;
    return t.due;
  }

  // Ticks every `step` for `total`, collecting what fired.
  std::vector<DueJob> run(std::chrono::milliseconds total, std::chrono::milliseconds step) {
    std::vector<DueJob> fired;
    for (auto elapsed = 0ms; elapsed < total; elapsed += step) {
      clock_.advance(step);
      for (auto& job : tick()) fired.push_back(std::move(job));
    }
    return fired;
  }

  noa::testing::FakeClock clock_;
  PolicyFile policy_ = policy();
  ScheduleState state_;
  std::vector<JobKey> first_seen_;
};

TEST_F(ScheduleTest, DoesNotFireOnFirstSight) {
  EXPECT_TRUE(tick().empty());
  EXPECT_EQ(first_seen_, (std::vector<JobKey>{kDump, kDrill}));
  EXPECT_EQ(state_.watermark_ms.at(kDump), now());
  EXPECT_EQ(state_.watermark_ms.at(kDrill), now());
  EXPECT_TRUE(tick().empty());
  EXPECT_TRUE(first_seen_.empty());
}

TEST_F(ScheduleTest, FiresAtThreeOnceADay) {
  tick();  // first sight at 12:00
  setWall(utcMs(2026, 11, 21, 2, 59, 50));
  EXPECT_TRUE(tick().empty());
  setWall(utcMs(2026, 11, 21, 3, 0, 10));
  const auto due = tick();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].key, kDump);
  EXPECT_EQ(due[0].slot_ms, utcMs(2026, 11, 21, 3, 0));
  EXPECT_EQ(due[0].slots, 1u);
  EXPECT_EQ(due[0].missed, 0u);
  EXPECT_EQ(due[0].late_ms, 10'000);
  EXPECT_EQ(due[0].reason, "slot 2026-11-21T03:00:00.000Z");
  clock_.advance(10s);
  EXPECT_TRUE(tick().empty());  // no second run for the same slot

  // Ten days of 10-second ticks: ten runs, each at 03:00 + at most one tick.
  const auto fired = run(std::chrono::hours(24 * 10), 10s);
  int dumps = 0;
  for (const auto& job : fired) {
    if (job.key != kDump) continue;
    dumps++;
    EXPECT_EQ(job.missed, 0u);
    EXPECT_LE(job.late_ms, 10'000);
    EXPECT_EQ((job.slot_ms % kDay), 3 * kHour);
  }
  EXPECT_EQ(dumps, 10);
}

TEST_F(ScheduleTest, FiresOnceAfterAThreeDayOutage) {
  tick();
  setWall(utcMs(2026, 11, 21, 3, 0, 5));
  ASSERT_EQ(tick().size(), 1u);  // Saturday's run
  // The controller is down from Saturday 03:00 until Tuesday 09:00: the 03:00 slots of
  // Sunday, Monday and Tuesday passed, and the drill's Sunday 04:00.
  setWall(utcMs(2026, 11, 24, 9, 0));
  const auto due = tick();
  ASSERT_EQ(due.size(), 2u);
  const DueJob& dump = due[0];
  EXPECT_EQ(dump.key, kDump);
  EXPECT_EQ(dump.slots, 3u);
  EXPECT_EQ(dump.missed, 3u);
  EXPECT_EQ(dump.slot_ms, utcMs(2026, 11, 24, 3, 0));
  EXPECT_EQ(dump.late_ms, 6 * kHour);
  EXPECT_EQ(dump.reason,
            "slot 2026-11-24T03:00:00.000Z, 3 missed since 2026-11-21T03:00:05.000Z (runs once "
            "now)");
  const DueJob& drill = due[1];
  EXPECT_EQ(drill.key, kDrill);
  EXPECT_EQ(drill.slots, 1u);
  EXPECT_EQ(drill.missed, 1u);
  EXPECT_EQ(drill.slot_ms, utcMs(2026, 11, 22, 4, 0));
  clock_.advance(10s);
  EXPECT_TRUE(tick().empty());  // no catch-up storm
}

TEST_F(ScheduleTest, AnOnTimeRunAfterAnOutageCountsOnlyTheSkippedSlots) {
  tick();
  setWall(utcMs(2026, 11, 21, 3, 0, 5));
  tick();
  setWall(utcMs(2026, 11, 24, 3, 1));  // back one minute after Tuesday's slot
  const auto due = tick();
  ASSERT_FALSE(due.empty());
  EXPECT_EQ(due[0].key, kDump);
  EXPECT_EQ(due[0].slots, 3u);
  EXPECT_EQ(due[0].missed, 2u);  // Sunday and Monday; Tuesday's runs (within the grace)
}

TEST_F(ScheduleTest, DrillRunsWeeklyOnSundayAtFour) {
  tick();
  const auto fired = run(std::chrono::hours(24 * 21), std::chrono::minutes(1));
  std::vector<int64_t> drills;
  for (const auto& job : fired) {
    if (job.key == kDrill) drills.push_back(job.slot_ms);
  }
  EXPECT_EQ(drills, (std::vector<int64_t>{utcMs(2026, 11, 22, 4, 0), utcMs(2026, 11, 29, 4, 0),
                                          utcMs(2026, 12, 6, 4, 0)}));
}

TEST_F(ScheduleTest, AFirstSlotAfterFirstSightFires) {
  setWall(utcMs(2026, 11, 21, 2, 59));
  tick();  // first sight one minute before the slot
  setWall(utcMs(2026, 11, 21, 3, 0));
  const auto due = tick();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].late_ms, 0);
}

TEST_F(ScheduleTest, AWatermarkInTheFutureIsResetToNow) {
  state_.watermark_ms[kDump] = now() + 365 * kDay;  // written before the clock was corrected
  state_.watermark_ms[kDrill] = now();
  EXPECT_TRUE(tick().empty());
  EXPECT_EQ(state_.watermark_ms.at(kDump), now());
  setWall(utcMs(2026, 11, 21, 3, 0, 30));
  EXPECT_EQ(tick().size(), 1u);  // the next slot after the correction fires
}

TEST_F(ScheduleTest, JobsLeavingThePolicyLeaveTheState) {
  state_.watermark_ms[{"postgres", JobKind::kBackup, "removed"}] = now() - kDay;
  tick();
  EXPECT_EQ(state_.watermark_ms.count({"postgres", JobKind::kBackup, "removed"}), 0u);
  EXPECT_EQ(state_.watermark_ms.size(), 2u);
}

TEST_F(ScheduleTest, CountsOfDenseSchedulesAreBounded) {
  auto parsed = parsePolicyYaml(
      "services:\n  s:\n    backups: [{name: often, kind: snapshot, schedule: '* * * * *'}]\n");
  ASSERT_OK(parsed);
  ScheduleState state;
  const JobKey key{"s", JobKind::kBackup, "often"};
  state.watermark_ms[key] = now() - 400 * kDay;  // 576000 minutes ago
  const ScheduleTick t = dueJobs(*parsed, state, now());
  ASSERT_EQ(t.due.size(), 1u);
  EXPECT_EQ(t.due[0].slots, kMaxCountedSlots);
  EXPECT_EQ(t.due[0].slot_ms, now());  // still the newest slot
  EXPECT_NE(t.due[0].reason.find("+ missed"), std::string::npos) << t.due[0].reason;
}

TEST(JobKeyName, ReadsAsAPath) {
  EXPECT_EQ(jobKeyName(kDump), "postgres/backup/nightly-dump");
  EXPECT_EQ(jobKeyName(kDrill), "postgres/drill");
}

TEST(RpoStatus, NoBackupYet) {
  const RpoStatus s = rpoStatus({}, 15 * kMinute, 1'790'000'000'000);
  EXPECT_FALSE(s.has_backup);
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.reason, "no backup yet (rpo_target 15m)");
  const RpoStatus only_failed =
      rpoStatus({sampleEntry("bk-f", 1'790'000'000'000, BackupStatus::kFailed)}, 15 * kMinute,
                1'790'000'000'000);
  EXPECT_FALSE(only_failed.has_backup);
}

TEST(RpoStatus, AgeOfTheNewestGoodBackupAgainstTheTarget) {
  const int64_t now = 1'790'000'000'000;
  std::vector<BackupEntry> entries = {
      sampleEntry("bk-old", now - 2 * kHour),
      sampleEntry("bk-new", now - 10 * kMinute),
      sampleEntry("bk-failed", now - kMinute, BackupStatus::kFailed),
      sampleEntry("bk-corrupt", now - kMinute, BackupStatus::kCorrupt),
  };
  entries[1].started_ms = now - 10 * kMinute;  // the data point: the dump's start
  const RpoStatus ok = rpoStatus(entries, 15 * kMinute, now);
  EXPECT_TRUE(ok.has_backup);
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.newest_id, "bk-new");
  EXPECT_EQ(ok.age_ms, 10 * kMinute);
  EXPECT_EQ(ok.reason, "newest backup bk-new is 10m old <= rpo_target 15m");

  const RpoStatus late = rpoStatus(entries, 15 * kMinute, now + 20 * kMinute);
  EXPECT_FALSE(late.ok);
  EXPECT_EQ(late.reason, "newest backup bk-new is 30m old > rpo_target 15m");

  // Without an agent start time the catalog time is the recovery point.
  entries[1].started_ms = 0;
  entries[1].created_ms = now - 5 * kMinute;
  EXPECT_EQ(rpoStatus(entries, 15 * kMinute, now).age_ms, 5 * kMinute);
}

TEST(ScheduleStateCodec, RoundTripAndCorruption) {
  ScheduleState state;
  state.watermark_ms[kDump] = 1'790'000'000'000;
  state.watermark_ms[kDrill] = 1'790'000'000'500;
  auto back = decodeScheduleState(encodeScheduleState(state));
  ASSERT_OK(back);
  EXPECT_EQ(*back, state);
  EXPECT_EQ(decodeScheduleState("junk\xc1").status().code(), StatusCode::kCorruption);
  const auto encode = [](const nlohmann::json& j) {
    const std::vector<uint8_t> bytes = nlohmann::json::to_msgpack(j);
    return std::string(bytes.begin(), bytes.end());
  };
  EXPECT_EQ(decodeScheduleState(encode({{"rv", 2}, {"jobs", nlohmann::json::array()}}))
                .status()
                .message(),
            "schedule state: version 2 is newer than this binary's 1");
  auto bad_kind = decodeScheduleState(
      encode({{"rv", 1},
              {"jobs", {{{"service", "s"}, {"kind", "x"}, {"policy", ""}, {"watermark_ms", 1}}}}}));
  EXPECT_EQ(bad_kind.status().message(), "schedule state: jobs[0].kind: unknown kind 'x'");
  auto no_mark = decodeScheduleState(
      encode({{"rv", 1}, {"jobs", {{{"service", "s"}, {"kind", "drill"}, {"policy", ""}}}}}));
  EXPECT_EQ(no_mark.status().message(), "schedule state: jobs[0].watermark_ms: required integer");
}

}  // namespace
}  // namespace noa::controller::backups
