// Store::open's refusals: nothing doubtful is opened, and nothing refused is changed.

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "controller/store/schema.h"
#include "controller/store/store.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/store/store_test_util.h"

namespace noa::controller {
namespace {

namespace fs = std::filesystem;
using testing::listing;
using testing::reportBytes;
using testing::sampleRecord;

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

class StoreOpenTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }
  std::string path() const { return dir_.path() + "/db"; }

  // Creates a store with two agents and some history, and closes it.
  void populate() {
    auto store = Store::open(StoreOptions{path(), true});
    ASSERT_OK(store);
    Store::Batch batch;
    batch.putAgent(sampleRecord("pg-1"));
    batch.putAgent(sampleRecord("pg-2"));
    for (int i = 1; i <= 5; ++i) {
      batch.appendHistory("pg-1", 1000 * i, static_cast<uint64_t>(i), reportBytes("pg-1", i, 0));
    }
    ASSERT_OK((*store)->commit(batch, /*sync=*/true));
  }

  // Runs fn on the store through RocksDB directly, with every family open.
  template <class Fn>
  void withRawDb(Fn&& fn) {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies({}, path(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open({}, path(), descriptors, &handles, &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    fn(db, handles);
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    ASSERT_TRUE(db->Close().ok());
    delete db;
  }

  std::string manifestPath() const {
    for (const auto& e : fs::directory_iterator(path())) {
      if (e.path().filename().string().rfind("MANIFEST-", 0) == 0) return e.path().string();
    }
    return "";
  }

  testing::TempDir dir_;
};

TEST_F(StoreOpenTest, NewStoreHasEveryFamilyAndTheVersion) {
  populate();
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies({}, path(), &names).ok());
  for (const auto& f : schema::kFamilies) {
    EXPECT_NE(std::find(names.begin(), names.end(), std::string(f.name)), names.end()) << f.name;
  }
  auto store = Store::open(StoreOptions{path(), false});
  ASSERT_OK(store);
  auto version = (*store)->get(Family::kMeta, schema::kSchemaVersionKey);
  ASSERT_OK(version);
  EXPECT_EQ(version->value_or(""), "1");
}

TEST_F(StoreOpenTest, MissingStoreWithoutCreateIsNotFound) {
  auto store = Store::open(StoreOptions{path(), false});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(path()));
}

TEST_F(StoreOpenTest, OtherSchemaVersionIsRefusedAndUntouched) {
  populate();
  withRawDb([](rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    for (auto* h : handles) {
      if (h->GetName() == "meta") {
        ASSERT_TRUE(db->Put({}, h, "schema_version", "2").ok());
      }
    }
  });
  const auto before = listing(path());
  auto store = Store::open(StoreOptions{path(), true});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(contains(store.status().message(), "schema version 2")) << store.status().message();
  EXPECT_TRUE(contains(store.status().message(), "schema version 1")) << store.status().message();
  EXPECT_EQ(listing(path()), before);
}

TEST_F(StoreOpenTest, UnknownFamiliesAreKept) {
  populate();
  withRawDb([](rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>&) {
    rocksdb::ColumnFamilyHandle* h = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily({}, "from_the_future", &h).ok());
    ASSERT_TRUE(db->Put({}, h, "k", "v").ok());
    ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  });
  {
    auto store = Store::open(StoreOptions{path(), true});
    ASSERT_OK(store);
    auto agents = (*store)->loadAgents();
    ASSERT_OK(agents);
    EXPECT_EQ(agents->size(), 2u);
  }
  withRawDb([](rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    bool found = false;
    for (auto* h : handles) {
      if (h->GetName() != "from_the_future") continue;
      std::string v;
      ASSERT_TRUE(db->Get({}, h, "k", &v).ok());
      EXPECT_EQ(v, "v");
      found = true;
    }
    EXPECT_TRUE(found);
  });
}

TEST_F(StoreOpenTest, MissingKnownFamilyIsRefusedUntilRepaired) {
  populate();
  withRawDb([](rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    for (auto* h : handles) {
      if (h->GetName() == "audit") {
        ASSERT_TRUE(db->DropColumnFamily(h).ok());
      }
    }
  });
  const auto before = listing(path());
  auto store = Store::open(StoreOptions{path(), true});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
  EXPECT_TRUE(contains(store.status().message(), "audit")) << store.status().message();
  EXPECT_TRUE(contains(store.status().message(), "repair")) << store.status().message();
  EXPECT_EQ(listing(path()), before);

  ASSERT_OK(repairStore(path()));
  auto repaired = Store::open(StoreOptions{path(), true});
  ASSERT_OK(repaired);
  auto agents = (*repaired)->loadAgents();
  ASSERT_OK(agents);
  EXPECT_EQ(agents->size(), 2u);
  Store::Batch batch;
  batch.put(Family::kAudit, "a", "b");
  ASSERT_OK((*repaired)->commit(batch));
}

TEST_F(StoreOpenTest, TruncatedCurrentIsRefusedWithRepairHint) {
  populate();
  fs::resize_file(fs::path(path()) / "CURRENT", 0);
  const auto before = listing(path());
  auto store = Store::open(StoreOptions{path(), true});
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(store.status().code() == StatusCode::kCorruption ||
              store.status().code() == StatusCode::kIoError)
      << store.status().toString();
  EXPECT_TRUE(contains(store.status().message(), "noa-controller repair --data-dir " + path()))
      << store.status().message();
  EXPECT_EQ(listing(path()), before);
}

TEST_F(StoreOpenTest, TruncatedManifestIsRefusedThenRepaired) {
  populate();
  const std::string manifest = manifestPath();
  ASSERT_FALSE(manifest.empty());
  fs::resize_file(manifest, fs::file_size(manifest) / 2);
  const auto before = listing(path());
  auto store = Store::open(StoreOptions{path(), true});
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(store.status().code() == StatusCode::kCorruption ||
              store.status().code() == StatusCode::kIoError)
      << store.status().toString();
  EXPECT_TRUE(contains(store.status().message(), "repair")) << store.status().message();
  EXPECT_EQ(listing(path()), before);

  ASSERT_OK(repairStore(path()));
  auto repaired = Store::open(StoreOptions{path(), true});
  ASSERT_OK(repaired);
  auto agents = (*repaired)->loadAgents();
  ASSERT_OK(agents);
  EXPECT_EQ(agents->size(), 2u);
  auto history = (*repaired)->readHistory("pg-1", 0, 100);
  ASSERT_OK(history);
  EXPECT_EQ(history->size(), 5u);
}

TEST_F(StoreOpenTest, GarbageManifestOfOurStoreIsDamageNotAForeignDatabase) {
  populate();
  for (const auto& entry : fs::directory_iterator(path())) {
    if (entry.path().filename().string().rfind("MANIFEST-", 0) == 0) {
      std::ofstream(entry.path(), std::ios::trunc) << "this is not a manifest";
    }
  }
  const auto before = listing(path());
  auto store = Store::open(StoreOptions{path(), true});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption) << store.status().toString();
  EXPECT_TRUE(contains(store.status().message(), "repair")) << store.status().message();
  EXPECT_EQ(listing(path()), before);
}

TEST_F(StoreOpenTest, RocksFilesWithoutCurrentAreNotMistakenForANewStore) {
  populate();
  fs::remove(fs::path(path()) / "CURRENT");
  const auto before = listing(path());
  auto store = Store::open(StoreOptions{path(), true});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
  EXPECT_TRUE(contains(store.status().message(), "repair")) << store.status().message();
  EXPECT_EQ(listing(path()), before);
}

TEST_F(StoreOpenTest, ForeignDirectoryIsRefused) {
  fs::create_directories(path());
  std::ofstream(path() + "/notes.txt") << "not a store";
  auto store = Store::open(StoreOptions{path(), true});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(listing(path()).size(), 1u);
}

// Stores written before the WAL was compressed (ZSTD) and left by a kill -9 hold an uncompressed
// WAL with acknowledged writes in it: the controller of today replays it.
TEST_F(StoreOpenTest, AnUncompressedWalLeftByAKillIsReplayed) {
  populate();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::vector<std::string> names;
    if (!rocksdb::DB::ListColumnFamilies({}, path(), &names).ok()) _exit(2);
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    rocksdb::DBOptions options;  // wal_compression: none, as before
    if (!rocksdb::DB::Open(options, path(), descriptors, &handles, &db).ok()) _exit(3);
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] != schema::familyName(Family::kCommands)) continue;
      if (!db->Put({}, handles[i], "cmd/1", "acknowledged").ok()) _exit(4);
    }
    kill(getpid(), SIGKILL);  // no flush: the write is only in the WAL
    _exit(5);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exit " << WEXITSTATUS(wstatus);
  auto store = Store::open(StoreOptions{path(), false});
  ASSERT_OK(store);
  auto got = (*store)->get(Family::kCommands, "cmd/1");
  ASSERT_OK(got);
  EXPECT_EQ(got->value_or(""), "acknowledged");
  auto agents = (*store)->loadAgents();
  ASSERT_OK(agents);
  EXPECT_EQ(agents->size(), 2u);
}

// History written before it moved to ZSTD in 64 KiB blocks (RocksDB's defaults: snappy, 4 KiB)
// stays readable beside what is written now.
TEST_F(StoreOpenTest, HistoryTablesOfTheEarlierFormatStayReadable) {
  populate();
  withRawDb([&](rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    for (auto* handle : handles) {
      if (handle->GetName() != schema::familyName(Family::kHistory)) continue;
      // Table files in the earlier formats (RocksDB's defaults: 4 KiB snappy blocks, fixed
      // level sizes): one compacted down into L1, one just flushed into L0.
      for (int i = 6; i <= 8; ++i) {
        ASSERT_TRUE(db->Put({}, handle, schema::encodeHistoryKey("pg-1", 1000 * i, i),
                            reportBytes("pg-1", i, 0))
                        .ok());
        if (i == 7) {
          ASSERT_TRUE(db->Flush({}, handle).ok());
          ASSERT_TRUE(db->CompactRange({}, handle, nullptr, nullptr).ok());
        }
      }
      ASSERT_TRUE(db->Flush({}, handle).ok());
    }
  });
  auto store = Store::open(StoreOptions{path(), false});
  ASSERT_OK(store);
  Store::Batch batch;
  batch.appendHistory("pg-1", 9000, 9, reportBytes("pg-1", 9, 0));
  ASSERT_OK((*store)->commit(batch, /*sync=*/true));
  auto history = (*store)->readHistory("pg-1", 0, 100);
  ASSERT_OK(history);
  ASSERT_EQ(history->size(), 9u);
  EXPECT_EQ(history->back().seq, 9u);
  // Retention over old and new tables alike, and everything still there after another reopen.
  auto pruned = (*store)->pruneHistory(6500);
  ASSERT_OK(pruned);
  store->reset();
  auto reopened = Store::open(StoreOptions{path(), false});
  ASSERT_OK(reopened);
  auto rest = (*reopened)->readHistory("pg-1", 0, 100);
  ASSERT_OK(rest);
  ASSERT_FALSE(rest->empty());
  EXPECT_EQ(rest->front().seq, 7u);
  EXPECT_EQ(rest->back().seq, 9u);
}

TEST_F(StoreOpenTest, ForeignRocksDbWithoutMetaIsRefused) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, path(), &db).ok());
  ASSERT_TRUE(db->Put({}, "k", "v").ok());
  delete db;
  auto store = Store::open(StoreOptions{path(), true});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(contains(store.status().message(), "not written by noa-controller"))
      << store.status().message();
}

TEST_F(StoreOpenTest, SecondOpenWhileOpenIsRefused) {
  auto first = Store::open(StoreOptions{path(), true});
  ASSERT_OK(first);
  auto second = Store::open(StoreOptions{path(), true});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIoError);
  EXPECT_TRUE(contains(second.status().message(), "another noa-controller"))
      << second.status().message();
  first->reset();
  ASSERT_OK(Store::open(StoreOptions{path(), true}));
}

TEST_F(StoreOpenTest, NotADirectoryIsRefused) {
  std::ofstream(path()) << "x";
  auto store = Store::open(StoreOptions{path(), true});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(StoreOpenTest, RepairOfAMissingDirectoryIsNotFound) {
  EXPECT_EQ(repairStore(path()).code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(path()));
}

}  // namespace
}  // namespace noa::controller
