#include "controller/store/store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "controller/store/schema.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/store/store_test_util.h"

namespace noa::controller {
namespace {

using testing::reportBytes;
using testing::sampleRecord;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    reopen();
  }
  void reopen() {
    store_.reset();
    auto opened = Store::open(StoreOptions{path(), true});
    ASSERT_OK(opened);
    store_ = std::move(opened).value();
  }
  std::string path() const { return dir_.path() + "/db"; }
  void appendReports(const std::string& agent, int64_t first_ts, int count) {
    Store::Batch batch;
    for (int i = 0; i < count; ++i) {
      const int64_t ts = first_ts + i * 1000;
      batch.appendHistory(agent, ts, static_cast<uint64_t>(i + 1),
                          reportBytes(agent, static_cast<uint64_t>(i + 1), ts - 3));
    }
    ASSERT_OK(store_->commit(batch));
  }
  std::vector<uint64_t> seqs(const std::vector<HistoryEntry>& entries) {
    std::vector<uint64_t> out;
    for (const auto& e : entries) out.push_back(e.seq);
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, CommitCloseReopenKeepsAgentsAndHistory) {
  Store::Batch batch;
  batch.putAgent(sampleRecord("pg-1"));
  batch.putAgent(sampleRecord("redis-1", false));
  batch.appendHistory("pg-1", 1000, 1, reportBytes("pg-1", 1, 990));
  EXPECT_EQ(batch.size(), 3u);
  ASSERT_OK(store_->commit(batch, /*sync=*/true));
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(store_->stats().commits, 1u);

  reopen();
  auto agents = store_->loadAgents();
  ASSERT_OK(agents);
  ASSERT_EQ(agents->size(), 2u);
  EXPECT_EQ((*agents)[0], sampleRecord("pg-1"));
  EXPECT_EQ((*agents)[1], sampleRecord("redis-1", false));
  auto one = store_->getAgent("redis-1");
  ASSERT_OK(one);
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ(**one, sampleRecord("redis-1", false));
  auto none = store_->getAgent("nobody");
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());

  auto history = store_->readHistory("pg-1", 0, 10);
  ASSERT_OK(history);
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].ts_ms, 1000);  // the key's time (controller receive time)
  EXPECT_EQ((*history)[0].seq, 1u);
  EXPECT_EQ((*history)[0].report, testing::sampleReport(1));
}

TEST_F(StoreTest, DeleteAgent) {
  Store::Batch batch;
  batch.putAgent(sampleRecord("pg-1"));
  batch.putAgent(sampleRecord("pg-2"));
  ASSERT_OK(store_->commit(batch));
  batch.deleteAgent("pg-1");
  ASSERT_OK(store_->commit(batch));
  auto agents = store_->loadAgents();
  ASSERT_OK(agents);
  ASSERT_EQ(agents->size(), 1u);
  EXPECT_EQ((*agents)[0].hello.agent_id, "pg-2");
}

TEST_F(StoreTest, EmptyCommitWritesNothing) {
  Store::Batch batch;
  ASSERT_OK(store_->commit(batch));
  EXPECT_EQ(store_->stats().commits, 0u);
  ASSERT_OK(store_->health());
  EXPECT_EQ(store_->path(), path());
}

TEST_F(StoreTest, HistorySinceLimitAndOrder) {
  appendReports("pg-1", 10'000, 10);  // ts 10000, 11000, ..., 19000; seq 1..10
  appendReports("pg-10", 10'000, 3);  // a neighbour whose id extends pg-1's
  appendReports("pg-0", 10'000, 3);

  auto all = store_->readHistory("pg-1", 0, 100);
  ASSERT_OK(all);
  EXPECT_EQ(seqs(*all), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));

  auto since = store_->readHistory("pg-1", 15'000, 100);
  ASSERT_OK(since);
  EXPECT_EQ(seqs(*since), (std::vector<uint64_t>{6, 7, 8, 9, 10}));
  EXPECT_EQ(since->front().ts_ms, 15'000);

  auto between = store_->readHistory("pg-1", 14'500, 2);
  ASSERT_OK(between);
  EXPECT_EQ(seqs(*between), (std::vector<uint64_t>{6, 7}));

  auto recent = store_->readRecentHistory("pg-1", 3);
  ASSERT_OK(recent);
  EXPECT_EQ(seqs(*recent), (std::vector<uint64_t>{10, 9, 8}));

  auto future = store_->readHistory("pg-1", 50'000, 10);
  ASSERT_OK(future);
  EXPECT_TRUE(future->empty());
  auto zero = store_->readHistory("pg-1", 0, 0);
  ASSERT_OK(zero);
  EXPECT_TRUE(zero->empty());
  auto unknown = store_->readRecentHistory("nobody", 5);
  ASSERT_OK(unknown);
  EXPECT_TRUE(unknown->empty());
  auto neighbour = store_->readRecentHistory("pg-10", 10);
  ASSERT_OK(neighbour);
  EXPECT_EQ(seqs(*neighbour), (std::vector<uint64_t>{3, 2, 1}));
}

TEST_F(StoreTest, UndecodableHistoryEntryIsSkippedAndCounted) {
  appendReports("pg-1", 10'000, 3);
  Store::Batch batch;
  batch.put(Family::kHistory, schema::encodeHistoryKey("pg-1", 10'500, 99), "\xc1garbage");
  ASSERT_OK(store_->commit(batch));
  auto all = store_->readHistory("pg-1", 0, 10);
  ASSERT_OK(all);
  EXPECT_EQ(seqs(*all), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(store_->stats().skipped_history_entries, 1u);
  auto recent = store_->readRecentHistory("pg-1", 10);
  ASSERT_OK(recent);
  EXPECT_EQ(seqs(*recent), (std::vector<uint64_t>{3, 2, 1}));
}

TEST_F(StoreTest, PruneDropsOlderEntriesOfEveryAgent) {
  appendReports("pg-1", 10'000, 10);  // 10000..19000
  appendReports("pg-2", 14'000, 4);   // 14000..17000
  appendReports("gone", 1'000, 2);    // an agent without a record keeps no history forever
  auto pruned = store_->pruneHistory(15'000);
  ASSERT_OK(pruned);
  EXPECT_EQ(*pruned, 5u + 1u + 2u);

  auto pg1 = store_->readHistory("pg-1", 0, 100);
  ASSERT_OK(pg1);
  EXPECT_EQ(seqs(*pg1), (std::vector<uint64_t>{6, 7, 8, 9, 10}));
  auto pg2 = store_->readHistory("pg-2", 0, 100);
  ASSERT_OK(pg2);
  EXPECT_EQ(seqs(*pg2), (std::vector<uint64_t>{2, 3, 4}));
  auto gone = store_->readHistory("gone", 0, 100);
  ASSERT_OK(gone);
  EXPECT_TRUE(gone->empty());

  auto again = store_->pruneHistory(15'000);
  ASSERT_OK(again);
  EXPECT_EQ(*again, 0u);

  reopen();
  auto after = store_->readRecentHistory("pg-1", 100);
  ASSERT_OK(after);
  EXPECT_EQ(seqs(*after), (std::vector<uint64_t>{10, 9, 8, 7, 6}));
}

TEST_F(StoreTest, RawFamiliesGetAndScan) {
  Store::Batch batch;
  batch.put(Family::kCommands, "cmd/2", "b");
  batch.put(Family::kCommands, "cmd/1", "a");
  batch.put(Family::kCommands, "cmd/3", "c");
  batch.put(Family::kCommands, "other", "x");
  batch.put(Family::kDesired, "cmd/1", "desired");  // families are separate key spaces
  ASSERT_OK(store_->commit(batch));

  auto got = store_->get(Family::kCommands, "cmd/1");
  ASSERT_OK(got);
  EXPECT_EQ(got->value_or(""), "a");
  auto missing = store_->get(Family::kDecisions, "cmd/1");
  ASSERT_OK(missing);
  EXPECT_FALSE(missing->has_value());

  auto scanned = store_->scan(Family::kCommands, "cmd/", 2);
  ASSERT_OK(scanned);
  ASSERT_EQ(scanned->size(), 2u);
  EXPECT_EQ((*scanned)[0], (std::pair<std::string, std::string>{"cmd/1", "a"}));
  EXPECT_EQ((*scanned)[1], (std::pair<std::string, std::string>{"cmd/2", "b"}));

  batch.erase(Family::kCommands, "cmd/2");
  ASSERT_OK(store_->commit(batch));
  auto rest = store_->scan(Family::kCommands, "", 10);
  ASSERT_OK(rest);
  ASSERT_EQ(rest->size(), 3u);
  EXPECT_EQ((*rest)[1].first, "cmd/3");
}

// A batch keeps its operations' keys and values back to back in one buffer: every one must
// come out whole and in order, whatever their sizes (empty, binary with NULs, large).
TEST_F(StoreTest, OperationsOfOneBatchApplyInOrderWithTheirOwnBytes) {
  Store::Batch batch;
  const std::string large(200 * 1024, 'L');
  const std::string binary("a\0b\0", 4);
  batch.put(Family::kCommands, "k1", "first");
  batch.erase(Family::kCommands, "k1");  // put then erase: gone
  batch.erase(Family::kCommands, "k2");  // erase then put: there
  batch.put(Family::kCommands, "k2", large);
  batch.put(Family::kCommands, "k3", "");        // an empty value
  batch.put(Family::kCommands, binary, binary);  // NULs in key and value
  batch.appendHistory("pg-1", 5000, 7, reportBytes("pg-1", 7, 4990));
  batch.put(Family::kCommands, "k4", "after the history entry");
  EXPECT_EQ(batch.size(), 8u);
  ASSERT_OK(store_->commit(batch));
  EXPECT_TRUE(batch.empty());

  auto scanned = store_->scan(Family::kCommands, "", 10);
  ASSERT_OK(scanned);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {binary, binary}, {"k2", large}, {"k3", ""}, {"k4", "after the history entry"}};
  EXPECT_EQ(*scanned, expected);
  auto history = store_->readHistory("pg-1", 0, 10);
  ASSERT_OK(history);
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].seq, 7u);
  EXPECT_EQ((*history)[0].ts_ms, 5000);

  // The emptied batch is used again, as the ingest loop does every pass.
  batch.put(Family::kCommands, "k5", "again");
  ASSERT_OK(store_->commit(batch));
  auto again = store_->get(Family::kCommands, "k5");
  ASSERT_OK(again);
  EXPECT_EQ(again->value_or(""), "again");
}

TEST_F(StoreTest, UnreadableAgentRecordStopsLoadAgents) {
  Store::Batch batch;
  batch.putAgent(sampleRecord("pg-1"));
  batch.put(Family::kAgents, "pg-2", "\xc1");
  ASSERT_OK(store_->commit(batch));
  auto agents = store_->loadAgents();
  ASSERT_FALSE(agents.ok());
  EXPECT_EQ(agents.status().code(), StatusCode::kCorruption);
  EXPECT_NE(agents.status().message().find("'pg-2'"), std::string::npos)
      << agents.status().message();
  EXPECT_EQ(store_->getAgent("pg-2").status().code(), StatusCode::kCorruption);
}

// The writer dies with SIGKILL right after an unsynced commit (WAL on, no close): a restart
// finds the registry and the history intact.
TEST_F(StoreTest, SurvivesKillNine) {
  store_.reset();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto opened = Store::open(StoreOptions{path(), true});
    if (!opened.ok()) _exit(2);
    for (int i = 1; i <= 50; ++i) {
      Store::Batch batch;
      AgentRecord record = sampleRecord("pg-1");
      record.last_seq = static_cast<uint64_t>(i);
      batch.putAgent(record);
      batch.appendHistory("pg-1", 1000 * i, static_cast<uint64_t>(i), reportBytes("pg-1", i, 0));
      if (!(*opened)->commit(batch).ok()) _exit(3);
    }
    kill(getpid(), SIGKILL);
    _exit(4);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exit " << WEXITSTATUS(wstatus);
  ASSERT_EQ(WTERMSIG(wstatus), SIGKILL);

  reopen();
  auto agent = store_->getAgent("pg-1");
  ASSERT_OK(agent);
  ASSERT_TRUE(agent->has_value());
  EXPECT_EQ((*agent)->last_seq, 50u);
  auto history = store_->readHistory("pg-1", 0, 100);
  ASSERT_OK(history);
  EXPECT_EQ(history->size(), 50u);
}

// A write the disk refuses (here: the file size limit) is sticky: later commits return the same
// error at once and health() reports it. Runs in a child so the limit stays there.
TEST_F(StoreTest, FirstWriteFailureIsSticky) {
  store_.reset();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto opened = Store::open(StoreOptions{path(), true});
    if (!opened.ok()) _exit(2);
    Store& store = **opened;
    Store::Batch small;
    small.putAgent(sampleRecord("pg-1"));
    small.appendHistory("pg-1", 1000, 1, reportBytes("pg-1", 1, 0));
    if (!store.commit(small).ok()) _exit(3);
    signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{1 << 20, 1 << 20};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(4);
    Store::Batch big;
    // Incompressible: the WAL is compressed, and 2 MiB of one byte would fit under the limit.
    std::string noise(2 << 20, '\0');
    std::mt19937_64 random(42);
    for (char& c : noise) c = static_cast<char>(random());
    big.put(Family::kAudit, "big", noise);
    const Status first = store.commit(big);
    if (first.ok()) _exit(10);
    small.putAgent(sampleRecord("pg-2"));
    if (store.commit(small) != first) _exit(11);
    if (store.health() != first) _exit(12);
    if (store.pruneHistory(INT64_MAX).status() != first) _exit(13);
    if (store.stats().failed_commits != 2) _exit(14);
    if (small.size() != 1) _exit(15);  // a failed commit leaves the batch as it was
    _exit(0);                          // no clean close: the store is broken on purpose
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus)) << "child killed by signal " << WTERMSIG(wstatus);
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);

  reopen();  // the committed record is still there
  auto agent = store_->getAgent("pg-1");
  ASSERT_OK(agent);
  EXPECT_TRUE(agent->has_value());
}

}  // namespace
}  // namespace noa::controller
