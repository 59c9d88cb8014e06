#include "controller/store/rocks_store.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/log.h"
#include "common/protocol/codec.h"
#include "controller/store/batch_impl.h"

namespace noa::controller {
namespace {

bool startsWith(const rocksdb::Slice& s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::string_view(s.data(), prefix.size()) == prefix;
}

std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

}  // namespace

RocksStore::RocksStore(std::string path, std::unique_ptr<rocks::OpenDb> db)
    : path_(std::move(path)), db_(std::move(db)) {
  for (const auto& f : schema::kFamilies) {
    families_[static_cast<size_t>(f.family)] = db_->family(f.name);
  }
}

RocksStore::~RocksStore() {
  rocksdb::FlushOptions options;
  options.wait = true;
  rocksdb::Status s = db_->db->Flush(options, db_->handles);
  if (!s.ok()) log::warn("store flush at close failed", {{"path", path_}, {"error", s.ToString()}});
}

// A full disk is the one write failure that heals by itself (space is freed, the volume
// grows), so it is retried; corruption and other I/O errors stay sticky until a restart.
// Retried from the write path, not a timer: the ingest loop commits several times a second
// while agents report, and a store nobody writes to has nothing to recover.
constexpr std::chrono::milliseconds kResumeEvery{500};

bool RocksStore::tryResumeLocked() {
  if (sticky_error_.code() != StatusCode::kResourceExhausted) return false;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_resume_ < kResumeEvery) return false;
  last_resume_ = now;
  // Resume() flushes the memtables and starts a new WAL; what failed was never applied (the
  // WAL write comes first), and was never acknowledged either.
  rocksdb::Status s = db_->db->Resume();
  if (!s.ok()) {
    log::debug("store still not writable", {{"path", path_}, {"error", s.ToString()}});
    return false;
  }
  log::info("store writable again after running out of space",
            {{"path", path_}, {"was", sticky_error_.toString()}});
  sticky_error_ = Status::Ok();
  return true;
}

// Room kept free on the store's file system: a WAL append, a memtable flush and the MANIFEST
// need some, and a write refused here (unlike a failed WAL append) leaves RocksDB healthy.
constexpr uint64_t kMinFreeBytes = 1 << 20;

Status RocksStore::checkSpace() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_space_check_ < std::chrono::milliseconds(100)) return space_error_;
  last_space_check_ = now;
  struct statvfs st {};
  if (::statvfs(path_.c_str(), &st) != 0) return space_error_;  // cannot tell: let RocksDB try
  const uint64_t free_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  if (free_bytes >= kMinFreeBytes) {
    if (!space_error_.ok())
      log::info("store has space again; writes resume",
                {{"path", path_}, {"free_bytes", free_bytes}});
    space_error_ = Status::Ok();
  } else if (space_error_.ok()) {
    space_error_ = Status::ResourceExhausted(
        "store write refused at " + path_ + ": No space left on device (" +
        std::to_string(free_bytes) + " bytes free, " + std::to_string(kMinFreeBytes) +
        " kept in reserve); writes resume by themselves once space is freed");
    log::error("store out of space; writes refused until space is freed",
               {{"path", path_}, {"free_bytes", free_bytes}});
  }
  return space_error_;
}

Status RocksStore::write(rocksdb::WriteBatch& batch, bool sync, std::string_view what) {
  {
    std::lock_guard lock(mu_);
    if (!sticky_error_.ok() && !tryResumeLocked()) return sticky_error_;
    if (Status space = checkSpace(); !space.ok()) return space;
  }
  rocksdb::WriteOptions options;
  options.sync = sync;
  const int64_t started = std::chrono::steady_clock::now().time_since_epoch().count();
  std::multiset<int64_t>::iterator mark;
  {
    std::lock_guard lock(in_flight_mu_);
    mark = in_flight_.insert(started);
  }
  rocksdb::Status s = db_->db->Write(options, &batch);
  {
    std::lock_guard lock(in_flight_mu_);
    in_flight_.erase(mark);
  }
  if (s.ok()) return Status::Ok();
  Status error = rocks::runtimeError(s, path_, what);
  std::lock_guard lock(mu_);
  if (sticky_error_.ok()) sticky_error_ = error;
  return sticky_error_;
}

Status RocksStore::commit(Batch& batch, bool sync) {
  if (batch.empty()) return health();
  // steady_clock directly: this only measures the write for the stats, it decides nothing.
  const auto start = std::chrono::steady_clock::now();
  // Room for every key and value and each record's few bytes of framing: the WriteBatch's
  // buffer is allocated once instead of doubling its way up.
  rocksdb::WriteBatch wb(batch.impl_->bytes.size() + 16 * batch.impl_->ops.size() + 12);
  rocksdb::Status built;
  batch.impl_->forEach([&](const BatchOp& op, std::string_view key, std::string_view value) {
    if (!built.ok()) return;
    const rocksdb::Slice k(key.data(), key.size());
    built = op.kind == BatchOp::Kind::kPut
                ? wb.Put(cf(op.family), k, rocksdb::Slice(value.data(), value.size()))
                : wb.Delete(cf(op.family), k);
  });
  if (!built.ok()) return rocks::runtimeError(built, path_, "batch");
  Status written = write(wb, sync, "commit");
  if (!written.ok()) {
    failed_commits_.fetch_add(1, std::memory_order_relaxed);
    return written;
  }
  batch.impl_->ops.clear();
  batch.impl_->bytes.clear();
  commits_.fetch_add(1, std::memory_order_relaxed);
  last_commit_us_.store(std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count(),
                        std::memory_order_relaxed);
  return Status::Ok();
}

Result<std::vector<AgentRecord>> RocksStore::loadAgents() const {
  std::vector<AgentRecord> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator({}, cf(Family::kAgents)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto record = decodeAgentRecord(view(it->value()));
    // A partial registry would forget agents (a lost primary among them), so one unreadable
    // record stops the start instead of being skipped.
    if (!record.ok()) {
      return Status::Corruption("the record of agent '" + it->key().ToString() + "' in " + path_ +
                                " is unreadable (" + record.status().message() +
                                "); nothing was changed. See schemas/store.md, \"Recovery\"");
    }
    out.push_back(std::move(record).value());
  }
  if (!it->status().ok()) return rocks::runtimeError(it->status(), path_, "agents scan");
  return out;
}

Result<std::optional<AgentRecord>> RocksStore::getAgent(const std::string& agent_id) const {
  NOA_ASSIGN_OR_RETURN(auto value, get(Family::kAgents, agent_id));
  if (!value) return std::optional<AgentRecord>();
  auto record = decodeAgentRecord(*value);
  if (!record.ok()) {
    return Status::Corruption("the record of agent '" + agent_id +
                              "' is unreadable: " + record.status().message());
  }
  return std::optional<AgentRecord>(std::move(record).value());
}

std::optional<HistoryEntry> RocksStore::toEntry(const rocksdb::Slice& key,
                                                const rocksdb::Slice& value) const {
  auto parsed = schema::decodeHistoryKey(view(key));
  std::string error;
  if (!parsed) {
    error = "bad key";
  } else if (auto env = protocol::decode(view(value)); !env.ok()) {
    error = env.status().toString();
  } else if (const auto* report = std::get_if<protocol::Report>(&env->body)) {
    return HistoryEntry{parsed->ts_ms, parsed->seq, env->ts_ms, *report};
  } else {
    error = "not a report";
  }
  skipped_history_.fetch_add(1, std::memory_order_relaxed);
  log::warn("skipping unreadable history entry",
            {{"agent", parsed ? parsed->agent_id : std::string()},
             {"ts_ms", parsed ? parsed->ts_ms : 0},
             {"error", error}});
  return std::nullopt;
}

Result<std::vector<HistoryEntry>> RocksStore::readHistory(const std::string& agent_id,
                                                          int64_t since_ms, size_t limit) const {
  std::vector<HistoryEntry> out;
  if (limit == 0) return out;
  const std::string end = schema::historyPrefixEnd(agent_id);
  const rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(options, cf(Family::kHistory)));
  for (it->Seek(schema::encodeHistoryKey(agent_id, since_ms, 0)); it->Valid() && out.size() < limit;
       it->Next()) {
    if (auto entry = toEntry(it->key(), it->value())) out.push_back(std::move(*entry));
  }
  if (!it->status().ok()) return rocks::runtimeError(it->status(), path_, "history read");
  return out;
}

Result<std::vector<HistoryEntry>> RocksStore::readRecentHistory(const std::string& agent_id,
                                                                size_t limit) const {
  std::vector<HistoryEntry> out;
  if (limit == 0) return out;
  const std::string begin = schema::historyPrefix(agent_id);
  const std::string end = schema::historyPrefixEnd(agent_id);
  const rocksdb::Slice lower(begin);
  const rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  options.iterate_lower_bound = &lower;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(options, cf(Family::kHistory)));
  for (it->SeekToLast(); it->Valid() && out.size() < limit; it->Prev()) {
    if (auto entry = toEntry(it->key(), it->value())) out.push_back(std::move(*entry));
  }
  if (!it->status().ok()) return rocks::runtimeError(it->status(), path_, "history read");
  return out;
}

Result<uint64_t> RocksStore::pruneHistory(int64_t cutoff_ms) {
  // Walks agent by agent (agents that were deleted keep history until it expires too): counts
  // the entries older than the cutoff, then drops them with one range tombstone per agent.
  rocksdb::WriteBatch wb;
  uint64_t removed = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator({}, cf(Family::kHistory)));
  it->SeekToFirst();
  while (it->Valid()) {
    auto key = schema::decodeHistoryKey(view(it->key()));
    if (!key) {
      // Not ours (a newer binary's key shape?): step over it rather than guess its extent.
      it->Next();
      continue;
    }
    const std::string agent = key->agent_id;
    const std::string prefix = schema::historyPrefix(agent);
    const std::string cutoff = schema::encodeHistoryKey(agent, cutoff_ms, 0);
    uint64_t count = 0;
    while (it->Valid() && it->key().compare(cutoff) < 0 && startsWith(it->key(), prefix)) {
      ++count;
      it->Next();
    }
    if (count > 0) {
      rocksdb::Status s = wb.DeleteRange(cf(Family::kHistory), prefix, cutoff);
      if (!s.ok()) return rocks::runtimeError(s, path_, "history prune");
      removed += count;
    }
    it->Seek(schema::historyPrefixEnd(agent));
  }
  if (!it->status().ok()) return rocks::runtimeError(it->status(), path_, "history prune");
  if (removed == 0) return removed;
  NOA_RETURN_IF_ERROR(write(wb, false, "history prune"));
  return removed;
}

Result<std::optional<std::string>> RocksStore::get(Family family, std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->db->Get({}, cf(family), key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return rocks::runtimeError(s, path_, "read");
  return std::optional<std::string>(std::move(value));
}

Result<std::vector<std::pair<std::string, std::string>>> RocksStore::scan(Family family,
                                                                          std::string_view prefix,
                                                                          size_t limit) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator({}, cf(family)));
  for (it->Seek(prefix); it->Valid() && out.size() < limit && startsWith(it->key(), prefix);
       it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  if (!it->status().ok()) return rocks::runtimeError(it->status(), path_, "scan");
  return out;
}

Status RocksStore::health() const {
  {
    std::lock_guard lock(mu_);
    if (!sticky_error_.ok()) return sticky_error_;
    if (!space_error_.ok()) return space_error_;
  }
  int64_t oldest = 0;
  {
    std::lock_guard lock(in_flight_mu_);
    if (in_flight_.empty()) return Status::Ok();
    oldest = *in_flight_.begin();
  }
  const auto waiting =
      std::chrono::steady_clock::now() -
      std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(oldest));
  if (waiting < kSlowWriteAfter) return Status::Ok();
  return Status::DeadlineExceeded(
      "store write waiting for " +
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(waiting).count()) +
      " ms: the disk under " + path_ +
      " is slow or frozen; reports are not acknowledged until it completes");
}

StoreStats RocksStore::stats() const {
  StoreStats s;
  s.commits = commits_.load(std::memory_order_relaxed);
  s.failed_commits = failed_commits_.load(std::memory_order_relaxed);
  s.last_commit_us = last_commit_us_.load(std::memory_order_relaxed);
  s.skipped_history_entries = skipped_history_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace noa::controller
