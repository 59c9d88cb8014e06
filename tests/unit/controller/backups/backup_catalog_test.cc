// BackupCatalog over a real RocksDB store in a temporary directory, on a fake clock: ids and
// catalog time, persistence across reopen, pins, listings, and a refused unreadable record.

#include "controller/backups/backup_catalog.h"

#include <gtest/gtest.h>

#include <thread>

#include "controller/store/schema.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/backups/backup_test_util.h"
#include "tests/unit/controller/store/store_test_util.h"

namespace noa::controller::backups {
namespace {

using namespace std::chrono_literals;

class BackupCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    catalog_.reset();
    store_.reset();
    auto store = Store::open({dir_.path()});
    ASSERT_OK(store);
    store_ = std::move(store).value();
    auto catalog = BackupCatalog::open(*store_, clock_);
    ASSERT_OK(catalog);
    catalog_ = std::move(catalog).value();
  }

  int64_t nowMs() const { return toUnixMillis(clock_.wallNow()); }

  BackupEntry add(const std::string& service = "postgres", const std::string& policy = "nightly",
                  BackupStatus status = BackupStatus::kAvailable) {
    BackupEntry e = testing::sampleEntry("", 0, status);
    e.service = service;
    e.policy = policy;
    auto r = catalog_->add(e);
    EXPECT_OK(r);
    clock_.advance(1s);
    return r.ok() ? *r : BackupEntry{};
  }

  static std::vector<std::string> ids(const std::vector<BackupEntry>& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e.id);
    return out;
  }

  controller::testing::TempDir dir_;
  noa::testing::FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<BackupCatalog> catalog_;
};

TEST_F(BackupCatalogTest, AddAssignsIdAndCatalogTime) {
  const int64_t now = nowMs();
  const BackupEntry e = add();
  EXPECT_TRUE(isBackupId(e.id)) << e.id;
  EXPECT_EQ(e.id.substr(0, 17), "bk-" + std::to_string(now) + "-");
  EXPECT_EQ(e.created_ms, now);
  EXPECT_EQ(catalog_->get(e.id), e);
  EXPECT_EQ(catalog_->size(), 1u);
  // Two in the same millisecond get different ids.
  BackupEntry a = testing::sampleEntry("", 0);
  auto first = catalog_->add(a);
  auto second = catalog_->add(a);
  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_NE(first->id, second->id);
}

TEST_F(BackupCatalogTest, AddRefusesBadOrTakenIdsAndMissingService) {
  const BackupEntry e = add();
  EXPECT_EQ(catalog_->add(e).status().code(), StatusCode::kAlreadyExists);
  BackupEntry bad = testing::sampleEntry("backup-1", 0);
  EXPECT_EQ(catalog_->add(bad).status().code(), StatusCode::kInvalidArgument);
  BackupEntry nameless = testing::sampleEntry("", 0);
  nameless.service.clear();
  EXPECT_EQ(catalog_->add(nameless).status().code(), StatusCode::kInvalidArgument);
  // A given well-formed id and catalog time are kept (an import).
  BackupEntry imported = testing::sampleEntry("bk-1700000000000-000001", 1'700'000'000'000);
  auto stored = catalog_->add(imported);
  ASSERT_OK(stored);
  EXPECT_EQ(*stored, imported);
}

TEST_F(BackupCatalogTest, EverythingSurvivesAReopen) {
  BackupEntry e = add();
  ASSERT_OK(catalog_->setPinned(e.id, true));
  ASSERT_OK(catalog_->addVerification(e.id, {nowMs(), true, "sha256 ok", "cmd-v"}));
  ASSERT_OK(catalog_->addDrill(e.id, {nowMs(), true, 90'000, 3'600'000, true, "ok", "cmd-d"}));
  const BackupEntry failed = add("postgres", "nightly", BackupStatus::kFailed);
  const BackupEntry before = *catalog_->get(e.id);
  EXPECT_TRUE(before.pinned);

  reopen();
  EXPECT_EQ(catalog_->size(), 2u);
  EXPECT_EQ(catalog_->get(e.id), before);
  EXPECT_EQ(catalog_->get(failed.id), failed);
  ASSERT_OK(catalog_->setPinned(e.id, false));
  reopen();
  EXPECT_FALSE(catalog_->get(e.id)->pinned);
}

TEST_F(BackupCatalogTest, ListsNewestFirstWithFilters) {
  const BackupEntry a = add("postgres", "nightly");
  const BackupEntry b = add("redis", "volume");
  const BackupEntry c = add("postgres", "", BackupStatus::kFailed);  // manual
  const BackupEntry d = add("postgres", "nightly");
  EXPECT_EQ(ids(catalog_->list({})), (std::vector<std::string>{d.id, c.id, b.id, a.id}));
  EXPECT_EQ(ids(catalog_->list({"postgres", std::nullopt, std::nullopt, 100})),
            (std::vector<std::string>{d.id, c.id, a.id}));
  EXPECT_EQ(ids(catalog_->list({"postgres", std::nullopt, BackupStatus::kAvailable, 100})),
            (std::vector<std::string>{d.id, a.id}));
  EXPECT_EQ(ids(catalog_->list({"", std::string(""), std::nullopt, 100})),
            (std::vector<std::string>{c.id}));
  EXPECT_EQ(ids(catalog_->list({"", std::nullopt, std::nullopt, 2})),
            (std::vector<std::string>{d.id, c.id}));
  EXPECT_EQ(ids(catalog_->entriesOf("postgres", "nightly")),
            (std::vector<std::string>{d.id, a.id}));
}

TEST_F(BackupCatalogTest, OrderIsCatalogTimeNotIdOrArtifactTime) {
  // An imported entry with an old catalog time but a large id sorts by created_ms.
  BackupEntry old = testing::sampleEntry("bk-9999999999999-000000", 1'000);
  old.started_ms = nowMs() + 100 * 86'400'000LL;  // an agent clock far ahead
  ASSERT_OK(catalog_->add(old));
  const BackupEntry fresh = add();
  EXPECT_EQ(ids(catalog_->list({})), (std::vector<std::string>{fresh.id, old.id}));
  EXPECT_EQ(catalog_->newestGood("postgres")->id, fresh.id);
}

TEST_F(BackupCatalogTest, NewestGoodSkipsFailedCorruptAndPruned) {
  EXPECT_FALSE(catalog_->newestGood("postgres").has_value());
  const BackupEntry good = add("postgres");
  const BackupEntry redis = add("redis");
  add("postgres", "nightly", BackupStatus::kFailed);
  add("postgres", "nightly", BackupStatus::kCorrupt);
  add("postgres", "nightly", BackupStatus::kPruned);
  add("redis", "nightly", BackupStatus::kFailed);
  EXPECT_EQ(catalog_->newestGood("postgres")->id, good.id);
  const auto per_service = catalog_->newestGoodPerService();
  ASSERT_EQ(per_service.size(), 2u);
  EXPECT_EQ(per_service.at("postgres").id, good.id);
  EXPECT_EQ(per_service.at("redis").id, redis.id);
}

TEST_F(BackupCatalogTest, UpdateAndModifyKeepIdentity) {
  BackupEntry e = add();
  e.status = BackupStatus::kCorrupt;
  e.error = "sha256 mismatch";
  ASSERT_OK(catalog_->update(e));
  EXPECT_EQ(catalog_->get(e.id)->status, BackupStatus::kCorrupt);

  BackupEntry moved = e;
  moved.service = "redis";
  EXPECT_EQ(catalog_->update(moved).status().code(), StatusCode::kInvalidArgument);
  BackupEntry retimed = e;
  retimed.created_ms += 1;
  EXPECT_EQ(catalog_->update(retimed).status().code(), StatusCode::kInvalidArgument);
  BackupEntry unknown = e;
  unknown.id = "bk-0000000000001-000000";
  EXPECT_EQ(catalog_->update(unknown).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->setPinned(unknown.id, true).status().code(), StatusCode::kNotFound);

  auto refused = catalog_->modify(e.id, [](BackupEntry& x) {
    x.pinned = true;
    return Status::FailedPrecondition("in use");
  });
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(catalog_->get(e.id)->pinned);  // nothing stored
  auto renamed = catalog_->modify(e.id, [](BackupEntry& x) {
    x.id = "bk-0000000000001-000000";
    return Status::Ok();
  });
  EXPECT_EQ(renamed.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(BackupCatalogTest, ChecksKeepTheNewest) {
  const BackupEntry e = add();
  for (int i = 0; i < 40; ++i) {
    ASSERT_OK(catalog_->addVerification(e.id, {i, true, "", ""}));
    ASSERT_OK(catalog_->addDrill(e.id, {i, true, 1, 2, true, "", ""}));
  }
  const BackupEntry stored = *catalog_->get(e.id);
  ASSERT_EQ(stored.verifications.size(), kMaxChecksPerEntry);
  EXPECT_EQ(stored.verifications.front().ts_ms, 40 - static_cast<int64_t>(kMaxChecksPerEntry));
  EXPECT_EQ(stored.verifications.back().ts_ms, 39);
  EXPECT_EQ(stored.drills.size(), kMaxChecksPerEntry);
}

TEST_F(BackupCatalogTest, ConcurrentChangesToOneEntryAreAllKept) {
  const BackupEntry e = add();
  auto verify = [&](int base) {
    for (int i = 0; i < 10; ++i)
      EXPECT_OK(catalog_->addVerification(e.id, {base + i, true, "", ""}));
  };
  std::thread ingest(verify, 0);
  std::thread rest([&] {
    for (int i = 0; i < 10; ++i) EXPECT_OK(catalog_->setPinned(e.id, i % 2 == 0));
  });
  verify(100);
  ingest.join();
  rest.join();
  EXPECT_EQ(catalog_->get(e.id)->verifications.size(), 20u);
  EXPECT_FALSE(catalog_->get(e.id)->pinned);
  reopen();
  EXPECT_EQ(catalog_->get(e.id)->verifications.size(), 20u);
}

TEST_F(BackupCatalogTest, OpenRefusesAnUnreadableRecordNamingIt) {
  add();
  Store::Batch batch;
  batch.put(Family::kBackups, "bk-1790000000000-00beef", "not a record");
  ASSERT_OK(store_->commit(batch, true));
  catalog_.reset();
  auto reopened = BackupCatalog::open(*store_, clock_);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(reopened.status().message().find("backup 'bk-1790000000000-00beef'"), std::string::npos)
      << reopened.status().message();
}

TEST_F(BackupCatalogTest, OpenRefusesARecordStoredUnderAnotherId) {
  Store::Batch batch;
  batch.put(Family::kBackups, "bk-1790000000000-000009",
            encodeBackupEntry(testing::sampleEntry("bk-1790000000000-000001", 1)));
  ASSERT_OK(store_->commit(batch, true));
  catalog_.reset();
  auto reopened = BackupCatalog::open(*store_, clock_);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption);
}

TEST_F(BackupCatalogTest, ScheduleStateIsStoredBesideTheEntries) {
  auto empty = catalog_->loadScheduleState();
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->watermark_ms.empty());
  ScheduleState state;
  state.watermark_ms[{"postgres", JobKind::kBackup, "nightly"}] = 1'790'000'000'000;
  state.watermark_ms[{"postgres", JobKind::kDrill, ""}] = 1'790'000'000'001;
  ASSERT_OK(catalog_->saveScheduleState(state));
  add();
  reopen();
  EXPECT_EQ(catalog_->size(), 1u);  // the state record is not an entry
  auto loaded = catalog_->loadScheduleState();
  ASSERT_OK(loaded);
  EXPECT_EQ(*loaded, state);
}

}  // namespace
}  // namespace noa::controller::backups
