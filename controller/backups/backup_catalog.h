#pragma once

// The controller's backup catalog: an in-memory index over the `backups` column family. Every
// change is committed with sync (WAL fsync'd) before the call returns, so what the caller does
// next (prune an artifact, answer a REST request, report an RPO) rests on stored state; a
// commit that fails changes nothing in memory and returns the store's error.
//
// The family holds the entries (keys "bk-...") and one record of scheduler state (key
// "schedule", backup_schedule.h); see schemas/store.md, "backups".
//
// Thread-safe: REST threads read and pin, the ingest thread adds entries and records
// verifications and drills. One mutex covers the index and the commit, so read-modify-write
// changes (modify, setPinned, add...) never interleave.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "controller/backups/backup_entry.h"
#include "controller/backups/backup_schedule.h"
#include "controller/store/store.h"

namespace noa::controller::backups {

// Verifications and drills kept per entry (the newest), so a record stays small.
inline constexpr size_t kMaxChecksPerEntry = 32;

struct BackupFilter {
  std::string service;                 // "" = any
  std::optional<std::string> policy;   // nullopt = any; "" = manual backups only
  std::optional<BackupStatus> status;  // nullopt = any
  size_t limit = 100;
};

class BackupCatalog {
 public:
  // Loads every entry of the `backups` family. Corruption naming the entry when one does not
  // decode: a partial catalog could let retention prune what it no longer knows is pinned, or
  // report an RPO violation for backups that exist.
  static Result<std::unique_ptr<BackupCatalog>> open(Store& store, const Clock& clock);

  // Stores a new entry. An empty id is assigned ("bk-<created_ms>-<counter>"); a given one must
  // be a well-formed unused id (InvalidArgument, AlreadyExists). created_ms, when 0, is set to
  // the catalog's now. InvalidArgument without a service.
  Result<BackupEntry> add(BackupEntry entry);

  // Replaces a stored entry. NotFound; InvalidArgument when id, service or created_ms differ
  // from the stored one (they are the entry's identity and order).
  Result<BackupEntry> update(const BackupEntry& entry);

  // Applies `change` to the stored entry under the lock and stores the result (the same rules
  // as update). A non-OK Status from `change` is returned and nothing is stored.
  Result<BackupEntry> modify(const std::string& id,
                             const std::function<Status(BackupEntry&)>& change);

  Result<BackupEntry> setPinned(const std::string& id, bool pinned);
  // Append a verification / a drill (keeping the newest kMaxChecksPerEntry).
  Result<BackupEntry> addVerification(const std::string& id, BackupVerification verification);
  Result<BackupEntry> addDrill(const std::string& id, BackupDrill drill);

  std::optional<BackupEntry> get(const std::string& id) const;
  // Newest first by catalog time (created_ms, then id).
  std::vector<BackupEntry> list(const BackupFilter& filter) const;
  // Every entry of one service and policy, any status (the input of decideRetention).
  std::vector<BackupEntry> entriesOf(const std::string& service, const std::string& policy) const;
  // The newest available entry of the service (any policy), by catalog time.
  std::optional<BackupEntry> newestGood(const std::string& service) const;
  // The same for every service that has one, by service name.
  std::map<std::string, BackupEntry> newestGoodPerService() const;

  // The scheduler's watermarks (empty when never saved); stored with sync.
  Result<ScheduleState> loadScheduleState() const;
  Status saveScheduleState(const ScheduleState& state);

  size_t size() const;

 private:
  BackupCatalog(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  int64_t nowMs() const { return toUnixMillis(clock_.wallNow()); }
  // Commits `entry` (sync) and, only then, puts it in the index.
  Status storeLocked(const BackupEntry& entry);
  void indexLocked(const BackupEntry& entry);
  Result<BackupEntry> replaceLocked(const BackupEntry& entry);

  Store& store_;
  const Clock& clock_;

  mutable std::mutex mu_;
  // State below is protected by mu_.
  std::map<std::string, BackupEntry> entries_;         // by id
  std::set<std::pair<int64_t, std::string>> by_time_;  // (created_ms, id), oldest first
  uint32_t id_counter_ = 0;
};

}  // namespace noa::controller::backups
