#pragma once

// The controller's durable state in RocksDB. Column families and key layout are declared in
// store/schema.h and described in schemas/store.md.
//
// One writer: the ingest loop builds a Batch per drained group of messages and commits it.
// Reads are safe from any thread. The first write failure is sticky: later commits return it
// and health reports it, until restart (leveldb's bg_error_). A full disk is the exception:
// writes are refused (ResourceExhausted, in health too) while less than 1 MB is free, before
// RocksDB's WAL append could fail (which RocksDB treats as fatal), and succeed again once
// space is freed; a RocksDB no-space error that happens anyway is retried with DB::Resume.
//
// Opening never repairs or wipes anything: a corrupt store, a store of another schema version
// or an unreadable directory is refused with a message that says how to recover.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "controller/registry/agent_record.h"
#include "controller/store/key_record.h"

namespace noa::controller {

class RocksStore;

enum class Family {
  kMeta,
  kAgents,
  kHistory,
  kCommands,
  kDecisions,
  kBackups,
  kDesired,
  kAudit,
  kKeys,
};

struct StoreOptions {
  std::string path;
  bool create_if_missing = true;
};

struct StoreStats {
  uint64_t commits = 0;
  uint64_t failed_commits = 0;
  uint64_t last_commit_us = 0;
  uint64_t skipped_history_entries = 0;  // unreadable history values skipped by reads
};

class Store {
 public:
  // Named mutations applied atomically by commit(). Not thread-safe; owned by the writer.
  class Batch {
   public:
    Batch();
    ~Batch();
    Batch(Batch&&) noexcept;
    Batch& operator=(Batch&&) noexcept;

    void putAgent(const AgentRecord& record);
    void deleteAgent(const std::string& agent_id);
    // Keyed by key id (schemas/store.md, "keys").
    void putKey(const KeyRecord& record);
    // `envelope_bytes` is the report exactly as received (decoded again on read).
    void appendHistory(const std::string& agent_id, int64_t ts_ms, uint64_t seq,
                       std::string_view envelope_bytes);
    // Raw access for the families later modules own (commands, decisions, backups, ...).
    void put(Family family, std::string_view key, std::string_view value);
    void erase(Family family, std::string_view key);

    size_t size() const;
    bool empty() const { return size() == 0; }

   private:
    friend class Store;
    friend class RocksStore;
    struct Impl;
    std::unique_ptr<Impl> impl_;
  };

  virtual ~Store() = default;

  // Opens or creates the store at options.path. Refusals:
  //   Corruption          RocksDB reports corruption (message says how to recover)
  //   Corruption          also: RocksDB files without CURRENT, known column families missing
  //   FailedPrecondition  schema version newer/older than this binary's, not a noa store
  //                       (none of its families, or data but no version), a non-empty
  //                       directory that holds no store
  //   IoError             directory unreadable, locked by another process, ...
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options);

  // Writes the batch (WAL on). `sync` fsyncs the WAL (decisions and command state). Empties the
  // batch when it was written; an empty batch writes nothing and returns health().
  virtual Status commit(Batch& batch, bool sync = false) = 0;

  // Every agent, ordered by id. One unreadable record fails the whole load (Corruption naming
  // the agent): a partial registry would forget agents, a lost primary among them.
  virtual Result<std::vector<AgentRecord>> loadAgents() const = 0;
  virtual Result<std::optional<AgentRecord>> getAgent(const std::string& agent_id) const = 0;
  // Oldest first, entries with ts_ms >= since_ms, at most `limit`.
  virtual Result<std::vector<HistoryEntry>> readHistory(const std::string& agent_id,
                                                        int64_t since_ms, size_t limit) const = 0;
  // Newest first, at most `limit` (for "last N reports").
  virtual Result<std::vector<HistoryEntry>> readRecentHistory(const std::string& agent_id,
                                                              size_t limit) const = 0;
  // Deletes history older than cutoff_ms for every agent (with or without a record). Returns
  // the entries removed. A write like commit(): refused after the first write failure.
  virtual Result<uint64_t> pruneHistory(int64_t cutoff_ms) = 0;

  // Every key record, ordered by key id. One unreadable record fails the whole load
  // (Corruption naming the key): a partial list could forget a revocation.
  Result<std::vector<KeyRecord>> loadKeys() const;

  virtual Result<std::optional<std::string>> get(Family family, std::string_view key) const = 0;
  // Ordered scan of keys starting with `prefix`, at most `limit` pairs.
  virtual Result<std::vector<std::pair<std::string, std::string>>> scan(Family family,
                                                                        std::string_view prefix,
                                                                        size_t limit) const = 0;

  // OK, or the first write failure since open.
  virtual Status health() const = 0;
  virtual StoreStats stats() const = 0;
  virtual std::string path() const = 0;
};

// Encoding of AgentRecord in the `agents` family (MessagePack map, see schemas/store.md).
std::string encodeAgentRecord(const AgentRecord& record);
Result<AgentRecord> decodeAgentRecord(std::string_view bytes);
// Encoding of KeyRecord in the `keys` family (MessagePack map, see schemas/store.md).
std::string encodeKeyRecord(const KeyRecord& record);
Result<KeyRecord> decodeKeyRecord(std::string_view bytes);

// Runs RocksDB's RepairDB on a store that open() refused as corrupt. Used by
// `noa-controller repair`; never called automatically.
Status repairStore(const std::string& path);

}  // namespace noa::controller
