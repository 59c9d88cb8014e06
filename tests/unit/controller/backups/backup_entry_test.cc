// The catalog record: JSON (REST) and MessagePack (store) round trips, ids, and decode errors
// that name the field.

#include "controller/backups/backup_entry.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/backups/backup_test_util.h"

namespace noa::controller::backups {
namespace {

using nlohmann::json;
using testing::sampleEntry;

BackupEntry fullEntry() {
  BackupEntry e = sampleEntry("bk-1790000000000-00002a", 1'790'000'000'000);
  e.pinned = true;
  e.error = "";
  e.verifications = {{1'790'000'100'000, true, "sha256 ok, pg_restore --list ok", "cmd-v1"},
                     {1'790'000'200'000, false, "sha256 mismatch", "cmd-v2"}};
  e.drills = {
      {1'790'000'300'000, true, 412'000, 3'600'000, true, "restored into noa_drill", "cmd-d1"}};
  return e;
}

std::string corruption(const json& j) {
  const std::vector<uint8_t> bytes = json::to_msgpack(j);
  auto decoded = decodeBackupEntry(std::string(bytes.begin(), bytes.end()));
  EXPECT_FALSE(decoded.ok());
  if (!decoded.ok()) {
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
  }
  return decoded.ok() ? "" : decoded.status().message();
}

json storedJson(const BackupEntry& e) {
  json j = backupToJson(e);
  j["rv"] = 1;
  return j;
}

TEST(BackupEntry, JsonRoundTrip) {
  const BackupEntry e = fullEntry();
  const json j = backupToJson(e);
  EXPECT_EQ(j["status"], "available");
  EXPECT_EQ(j["kind"], "pg_dump");
  EXPECT_EQ(j["drills"][0]["restore_ms"], 412'000);
  auto back = backupFromJson(j);
  ASSERT_OK(back);
  EXPECT_EQ(*back, e);
}

TEST(BackupEntry, MessagePackRoundTripForEveryStatusAndKind) {
  for (int s = 0; s < kBackupStatusCount; ++s) {
    for (BackupKind kind : {BackupKind::kPgDump, BackupKind::kSnapshot}) {
      BackupEntry e = fullEntry();
      e.status = static_cast<BackupStatus>(s);
      e.kind = kind;
      e.error = s == 1 ? "pg_dump exited 1" : "";
      auto back = decodeBackupEntry(encodeBackupEntry(e));
      ASSERT_OK(back);
      EXPECT_EQ(*back, e);
      EXPECT_EQ(parseBackupStatus(backupStatusName(e.status)), e.status);
    }
  }
  EXPECT_FALSE(parseBackupStatus("gone").has_value());
}

TEST(BackupEntry, UnknownKeysAreIgnoredAndOptionalOnesDefault) {
  json j = {{"rv", 1},
            {"id", "bk-1790000000000-000001"},
            {"service", "redis"},
            {"kind", "snapshot"},
            {"created_ms", 5},
            {"status", "failed"},
            {"from_the_future", {1, 2}}};
  const std::vector<uint8_t> bytes = json::to_msgpack(j);
  auto e = decodeBackupEntry(std::string(bytes.begin(), bytes.end()));
  ASSERT_OK(e);
  EXPECT_EQ(e->service, "redis");
  EXPECT_EQ(e->status, BackupStatus::kFailed);
  EXPECT_FALSE(e->pinned);
  EXPECT_TRUE(e->verifications.empty());
}

TEST(BackupEntry, DecodeErrorsNameTheField) {
  auto garbage = decodeBackupEntry("\xc1\xc1not msgpack");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().message(), "backup record: not MessagePack");
  EXPECT_EQ(corruption(json::array({1, 2})), "backup record: expected a map");

  json j = storedJson(fullEntry());
  j.erase("rv");
  EXPECT_EQ(corruption(j), "backup record: record.rv: required integer");
  j = storedJson(fullEntry());
  j["rv"] = 2;
  EXPECT_EQ(corruption(j), "backup record: version 2 is newer than this binary's 1");

  j = storedJson(fullEntry());
  j["size_bytes"] = "big";
  EXPECT_EQ(corruption(j), "backup record: backup.size_bytes: expected integer");
  j["size_bytes"] = -1;
  EXPECT_EQ(corruption(j), "backup record: backup.size_bytes: expected non-negative integer");
  j = storedJson(fullEntry());
  j["status"] = "gone";
  EXPECT_EQ(corruption(j), "backup record: backup.status: unknown status 'gone'");
  j = storedJson(fullEntry());
  j["kind"] = "tar";
  EXPECT_EQ(corruption(j), "backup record: backup.kind: unknown kind 'tar'");
  j = storedJson(fullEntry());
  j.erase("id");
  EXPECT_EQ(corruption(j), "backup record: backup.id: required");
  j = storedJson(fullEntry());
  j["pinned"] = 1;
  EXPECT_EQ(corruption(j), "backup record: backup.pinned: expected boolean");
  j = storedJson(fullEntry());
  j["verifications"][1]["ok"] = "yes";
  EXPECT_EQ(corruption(j), "backup record: backup.verifications[1].ok: expected boolean");
  j = storedJson(fullEntry());
  j["drills"] = json::object();
  EXPECT_EQ(corruption(j), "backup record: backup.drills: expected array");
  j = storedJson(fullEntry());
  j["drills"][0] = 3;
  EXPECT_EQ(corruption(j), "backup record: backup.drills[0]: expected an object");
  j = storedJson(fullEntry());
  j["drills"][0].erase("ts_ms");
  EXPECT_EQ(corruption(j), "backup record: backup.drills[0].ts_ms: required");
}

TEST(BackupEntry, FromJsonRefusesNonObjects) {
  auto r = backupFromJson(json::array());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(BackupEntry, IdsSortByTimeAndAreRecognised) {
  EXPECT_EQ(formatBackupId(1'790'000'000'000, 42), "bk-1790000000000-00002a");
  EXPECT_EQ(formatBackupId(5, 0), "bk-0000000000005-000000");
  EXPECT_LT(formatBackupId(999'999'999'999, 0xffffff), formatBackupId(1'000'000'000'000, 0));
  EXPECT_TRUE(isBackupId("bk-1790000000000-00002a"));
  EXPECT_FALSE(isBackupId("bk-1790000000000-00002A"));
  EXPECT_FALSE(isBackupId("cmd-1790000000000-00002a"));
  EXPECT_FALSE(isBackupId("bk-17900000000-00002a"));
  EXPECT_FALSE(isBackupId("bk-1790000000000_00002a"));
  EXPECT_FALSE(isBackupId("schedule"));
}

}  // namespace
}  // namespace noa::controller::backups
