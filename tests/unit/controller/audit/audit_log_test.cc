// AuditLog against a real RocksDB store in a temp dir: entries come back newest first, survive a
// reopen (and keep their order with the sequence continuing), since/limit filter, and one
// unreadable value does not hide the others.

#include "controller/audit/audit_log.h"

#include <gtest/gtest.h>

#include "controller/store/store.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/store/store_test_util.h"

namespace noa::controller {
namespace {

api::AuditEntry entry(int64_t ts_ms, const std::string& path, int status = 200) {
  api::AuditEntry e;
  e.ts_ms = ts_ms;
  e.actor = "alice";
  e.role = "admin";
  e.method = "POST";
  e.path = path;
  e.route = "/v1/keys/{id}/accept";
  e.status = status;
  e.detail = "";
  e.remote = "127.0.0.1";
  return e;
}

class AuditLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> openStore() {
    auto store = Store::open(StoreOptions{dir_.path() + "/store", true});
    EXPECT_TRUE(store.ok()) << store.status().toString();
    return std::move(store).value();
  }
  testing::TempDir dir_;
};

TEST_F(AuditLogTest, NewestFirstAcrossReopenWithSameMillisecondKeptApart) {
  {
    auto store = openStore();
    auto log = AuditLog::open(*store);
    ASSERT_TRUE(log.ok());
    (*log)->record(entry(1000, "/v1/keys/a/accept"));
    (*log)->record(entry(2000, "/v1/keys/b/accept"));
    (*log)->record(entry(2000, "/v1/keys/c/revoke", 409));
    EXPECT_EQ((*log)->failedWrites(), 0u);
  }
  auto store = openStore();
  auto log = AuditLog::open(*store);
  ASSERT_TRUE(log.ok());
  (*log)->record(entry(2000, "/v1/keys/d/reject"));  // same ms as two earlier ones
  auto all = (*log)->list(0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].entry.path, "/v1/keys/d/reject");
  EXPECT_EQ((*all)[1].entry.path, "/v1/keys/c/revoke");
  EXPECT_EQ((*all)[1].entry.status, 409);
  EXPECT_EQ((*all)[2].entry.path, "/v1/keys/b/accept");
  EXPECT_EQ((*all)[3].entry.path, "/v1/keys/a/accept");
  EXPECT_GT((*all)[0].seq, (*all)[1].seq);
  EXPECT_EQ((*all)[3].entry.actor, "alice");
  EXPECT_EQ((*all)[3].entry.remote, "127.0.0.1");
}

TEST_F(AuditLogTest, SinceAndLimit) {
  auto store = openStore();
  auto log = AuditLog::open(*store);
  ASSERT_TRUE(log.ok());
  for (int i = 1; i <= 10; ++i) (*log)->record(entry(i * 1000, "/p" + std::to_string(i)));
  auto recent = (*log)->list(8000, 100);
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 3u);
  EXPECT_EQ((*recent)[0].entry.path, "/p10");
  EXPECT_EQ((*recent)[2].entry.path, "/p8");
  auto two = (*log)->list(0, 2);
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1].entry.path, "/p9");
}

TEST_F(AuditLogTest, UnreadableValueIsSkippedAndCounted) {
  auto store = openStore();
  auto log = AuditLog::open(*store);
  ASSERT_TRUE(log.ok());
  (*log)->record(entry(1000, "/old"));
  Store::Batch batch;
  batch.put(Family::kAudit, encodeAuditKey(1500, 99), "not json");
  ASSERT_TRUE(store->commit(batch).ok());
  (*log)->record(entry(2000, "/new"));
  auto all = (*log)->list(0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].entry.path, "/new");
  EXPECT_EQ((*all)[1].entry.path, "/old");
  EXPECT_EQ((*log)->skippedRecords(), 1u);
}

TEST(AuditCodec, ValueRoundTripsAndRejectsGarbage) {
  auto e = entry(1234, "/v1/keys/x/accept", 403);
  e.detail = "role operator is below admin";
  auto back = decodeAuditValue(encodeAuditValue(e));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ts_ms, 1234);
  EXPECT_EQ(back->status, 403);
  EXPECT_EQ(back->detail, e.detail);
  EXPECT_FALSE(decodeAuditValue("[1,2]").ok());
  EXPECT_FALSE(decodeAuditValue("{}").ok());
}

}  // namespace
}  // namespace noa::controller
