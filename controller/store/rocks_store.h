#pragma once

// Internal to the store: the RocksDB implementation of Store. Created by Store::open once the
// directory, the families and the schema version have been checked.

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "controller/store/rocks_util.h"
#include "controller/store/schema.h"
#include "controller/store/store.h"

namespace noa::controller {

class RocksStore final : public Store {
 public:
  static constexpr std::chrono::seconds kSlowWriteAfter{2};

  // REQUIRES: every family of schema::kFamilies is open in `db`.
  RocksStore(std::string path, std::unique_ptr<rocks::OpenDb> db);
  // Flushes every family before closing: restarts skip the WAL replay, and RepairDB (which
  // rebuilds families only from table files) finds all data of a cleanly stopped store.
  ~RocksStore() override;

  Status commit(Batch& batch, bool sync) override;
  Result<std::vector<AgentRecord>> loadAgents() const override;
  Result<std::optional<AgentRecord>> getAgent(const std::string& agent_id) const override;
  Result<std::vector<HistoryEntry>> readHistory(const std::string& agent_id, int64_t since_ms,
                                                size_t limit) const override;
  Result<std::vector<HistoryEntry>> readRecentHistory(const std::string& agent_id,
                                                      size_t limit) const override;
  Result<uint64_t> pruneHistory(int64_t cutoff_ms) override;
  Result<std::optional<std::string>> get(Family family, std::string_view key) const override;
  Result<std::vector<std::pair<std::string, std::string>>> scan(Family family,
                                                                std::string_view prefix,
                                                                size_t limit) const override;
  Status health() const override;
  StoreStats stats() const override;
  std::string path() const override { return path_; }

 private:
  rocksdb::ColumnFamilyHandle* cf(Family family) const {
    return families_[static_cast<size_t>(family)];
  }
  // The one write path: refuses at once after the first failure and records that failure.
  Status write(rocksdb::WriteBatch& batch, bool sync, std::string_view what);
  // After a full disk (ResourceExhausted) only: DB::Resume() at most every kResumeEvery, and
  // clears the sticky error when RocksDB is writable again. REQUIRES: mu_ held.
  bool tryResumeLocked();
  // ResourceExhausted while the store's file system has less than kMinFreeBytes available
  // (statvfs, at most every 100 ms). Refusing before RocksDB's WAL append fails matters:
  // RocksDB treats a failed WAL append as fatal (only a reopen clears it), while this refusal
  // ends by itself once space is freed.
  Status checkSpace();
  // Decodes one history value; nullopt (logged and counted) when it cannot be read.
  std::optional<HistoryEntry> toEntry(const rocksdb::Slice& key, const rocksdb::Slice& value) const;

  const std::string path_;
  const std::unique_ptr<rocks::OpenDb> db_;
  std::array<rocksdb::ColumnFamilyHandle*, schema::kFamilies.size()> families_{};

  mutable std::mutex mu_;
  Status sticky_error_;  // guarded by mu_
  std::chrono::steady_clock::time_point last_resume_{};  // guarded by mu_
  std::chrono::steady_clock::time_point last_space_check_{};  // guarded by mu_
  Status space_error_;  // guarded by mu_; reported by health() while set

  // Start times (steady clock, ns) of the writes now inside RocksDB: health() reports a write
  // stuck longer than kSlowWriteAfter (a slow or frozen disk: the ingest thread is blocked in it
  // and cannot say so itself).
  mutable std::mutex in_flight_mu_;
  std::multiset<int64_t> in_flight_;  // guarded by in_flight_mu_

  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> failed_commits_{0};
  std::atomic<uint64_t> last_commit_us_{0};
  mutable std::atomic<uint64_t> skipped_history_{0};
};

}  // namespace noa::controller
