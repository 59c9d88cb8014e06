#include "controller/backups/backup_catalog.h"

#include <limits>

#include "common/log.h"

namespace noa::controller::backups {
namespace {

constexpr std::string_view kEntryKeyPrefix = "bk-";
constexpr std::string_view kScheduleStateKey = "schedule";

template <class T>
void keepNewest(std::vector<T>& items) {
  if (items.size() > kMaxChecksPerEntry) {
    items.erase(items.begin(), items.end() - static_cast<std::ptrdiff_t>(kMaxChecksPerEntry));
  }
}

bool matches(const BackupEntry& e, const BackupFilter& filter) {
  if (!filter.service.empty() && e.service != filter.service) return false;
  if (filter.policy && e.policy != *filter.policy) return false;
  if (filter.status && e.status != *filter.status) return false;
  return true;
}

}  // namespace

Result<std::unique_ptr<BackupCatalog>> BackupCatalog::open(Store& store, const Clock& clock) {
  std::unique_ptr<BackupCatalog> catalog(new BackupCatalog(store, clock));
  NOA_ASSIGN_OR_RETURN(
      auto rows, store.scan(Family::kBackups, kEntryKeyPrefix, std::numeric_limits<size_t>::max()));
  for (const auto& [key, value] : rows) {
    auto entry = decodeBackupEntry(value);
    if (!entry.ok()) {
      return Status::Corruption("backup '" + key + "': " + entry.status().message() +
                                "; run `noa-controller repair` or restore the store");
    }
    if (entry->id != key) {
      return Status::Corruption("backup '" + key + "': record id '" + entry->id +
                                "' differs from its key");
    }
    catalog->indexLocked(*entry);
  }
  if (!rows.empty()) log::info("backup catalog loaded", {{"backups", rows.size()}});
  return catalog;
}

void BackupCatalog::indexLocked(const BackupEntry& entry) {
  auto it = entries_.find(entry.id);
  if (it != entries_.end()) by_time_.erase({it->second.created_ms, it->second.id});
  entries_[entry.id] = entry;
  by_time_.insert({entry.created_ms, entry.id});
}

Status BackupCatalog::storeLocked(const BackupEntry& entry) {
  Store::Batch batch;
  batch.put(Family::kBackups, entry.id, encodeBackupEntry(entry));
  NOA_RETURN_IF_ERROR(store_.commit(batch, /*sync=*/true));
  indexLocked(entry);
  return Status::Ok();
}

Result<BackupEntry> BackupCatalog::add(BackupEntry entry) {
  if (entry.service.empty()) return Status::InvalidArgument("backup without a service");
  {
    std::lock_guard lock(mu_);
    const int64_t now = nowMs();
    if (entry.created_ms == 0) entry.created_ms = now;
    if (entry.id.empty()) {
      do {
        entry.id = formatBackupId(entry.created_ms, id_counter_++);
      } while (entries_.count(entry.id) != 0);
    } else if (!isBackupId(entry.id)) {
      return Status::InvalidArgument("backup id '" + entry.id +
                                     "' is not of the form bk-<13 digits>-<6 hex>");
    } else if (entries_.count(entry.id) != 0) {
      return Status::AlreadyExists("backup '" + entry.id + "' exists");
    }
    NOA_RETURN_IF_ERROR(storeLocked(entry));
  }
  log::info("backup cataloged", {{"backup", entry.id},
                                 {"service", entry.service},
                                 {"policy", entry.policy},
                                 {"status", backupStatusName(entry.status)}});
  return entry;
}

Result<BackupEntry> BackupCatalog::replaceLocked(const BackupEntry& entry) {
  auto it = entries_.find(entry.id);
  if (it == entries_.end()) return Status::NotFound("no backup '" + entry.id + "'");
  const BackupEntry& stored = it->second;
  if (entry.service != stored.service || entry.created_ms != stored.created_ms) {
    return Status::InvalidArgument("backup '" + entry.id +
                                   "': service and created_ms cannot change");
  }
  if (entry == stored) return entry;
  NOA_RETURN_IF_ERROR(storeLocked(entry));
  return entry;
}

Result<BackupEntry> BackupCatalog::update(const BackupEntry& entry) {
  std::lock_guard lock(mu_);
  return replaceLocked(entry);
}

Result<BackupEntry> BackupCatalog::modify(const std::string& id,
                                          const std::function<Status(BackupEntry&)>& change) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return Status::NotFound("no backup '" + id + "'");
  BackupEntry changed = it->second;
  NOA_RETURN_IF_ERROR(change(changed));
  if (changed.id != id) return Status::InvalidArgument("backup '" + id + "': id cannot change");
  return replaceLocked(changed);
}

Result<BackupEntry> BackupCatalog::setPinned(const std::string& id, bool pinned) {
  return modify(id, [pinned](BackupEntry& e) {
    e.pinned = pinned;
    return Status::Ok();
  });
}

Result<BackupEntry> BackupCatalog::addVerification(const std::string& id,
                                                   BackupVerification verification) {
  return modify(id, [&verification](BackupEntry& e) {
    e.verifications.push_back(std::move(verification));
    keepNewest(e.verifications);
    return Status::Ok();
  });
}

Result<BackupEntry> BackupCatalog::addDrill(const std::string& id, BackupDrill drill) {
  return modify(id, [&drill](BackupEntry& e) {
    e.drills.push_back(std::move(drill));
    keepNewest(e.drills);
    return Status::Ok();
  });
}

std::optional<BackupEntry> BackupCatalog::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

std::vector<BackupEntry> BackupCatalog::list(const BackupFilter& filter) const {
  std::vector<BackupEntry> out;
  std::lock_guard lock(mu_);
  for (auto it = by_time_.rbegin(); it != by_time_.rend() && out.size() < filter.limit; ++it) {
    const BackupEntry& e = entries_.at(it->second);
    if (matches(e, filter)) out.push_back(e);
  }
  return out;
}

std::vector<BackupEntry> BackupCatalog::entriesOf(const std::string& service,
                                                  const std::string& policy) const {
  BackupFilter filter;
  filter.service = service;
  filter.policy = policy;
  filter.limit = std::numeric_limits<size_t>::max();
  return list(filter);
}

std::optional<BackupEntry> BackupCatalog::newestGood(const std::string& service) const {
  BackupFilter filter;
  filter.service = service;
  filter.status = BackupStatus::kAvailable;
  filter.limit = 1;
  auto found = list(filter);
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::map<std::string, BackupEntry> BackupCatalog::newestGoodPerService() const {
  std::map<std::string, BackupEntry> out;
  std::lock_guard lock(mu_);
  for (auto it = by_time_.rbegin(); it != by_time_.rend(); ++it) {
    const BackupEntry& e = entries_.at(it->second);
    if (e.status == BackupStatus::kAvailable && out.count(e.service) == 0) out[e.service] = e;
  }
  return out;
}

Result<ScheduleState> BackupCatalog::loadScheduleState() const {
  NOA_ASSIGN_OR_RETURN(auto bytes, store_.get(Family::kBackups, kScheduleStateKey));
  if (!bytes) return ScheduleState{};
  return decodeScheduleState(*bytes);
}

Status BackupCatalog::saveScheduleState(const ScheduleState& state) {
  Store::Batch batch;
  batch.put(Family::kBackups, kScheduleStateKey, encodeScheduleState(state));
  std::lock_guard lock(mu_);
  return store_.commit(batch, /*sync=*/true);
}

size_t BackupCatalog::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace noa::controller::backups
