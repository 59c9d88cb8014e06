#include "controller/registry/registry.h"

namespace noa::controller {

void Registry::load(std::vector<AgentRecord> records, MonoTime now) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
  ids_by_kind_.clear();
  for (auto& record : records) {
    std::string id = record.hello.agent_id;
    ids_by_kind_[record.hello.kind].insert(id);
    entries_[id] = Entry{std::move(record), now};
  }
}

void Registry::indexKindLocked(const std::string& agent_id, const std::string& old_kind,
                               const std::string& new_kind) {
  if (old_kind == new_kind) return;
  auto old = ids_by_kind_.find(old_kind);
  if (old != ids_by_kind_.end()) {
    old->second.erase(agent_id);
    if (old->second.empty()) ids_by_kind_.erase(old);
  }
  ids_by_kind_[new_kind].insert(agent_id);
}

void Registry::put(const AgentRecord& record, MonoTime last_seen) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = entries_.try_emplace(record.hello.agent_id, Entry{record, last_seen});
  if (inserted) {
    ids_by_kind_[record.hello.kind].insert(record.hello.agent_id);
    return;
  }
  const std::string old_kind = it->second.record.hello.kind;
  it->second = Entry{record, last_seen};
  indexKindLocked(record.hello.agent_id, old_kind, record.hello.kind);
}

bool Registry::read(const std::string& agent_id,
                    const std::function<void(const AgentRecord&)>& read) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(agent_id);
  if (it == entries_.end()) return false;
  read(it->second.record);
  return true;
}

std::optional<AgentRecord> Registry::get(const std::string& agent_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(agent_id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.record;
}

std::vector<AgentRecord> Registry::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<AgentRecord> out;
  out.reserve(entries_.size());
  for (const auto& [id, entry] : entries_) out.push_back(entry.record);
  return out;
}

std::vector<AgentRecord> Registry::snapshotIf(
    const std::function<bool(const AgentRecord&)>& keep) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<AgentRecord> out;
  for (const auto& [id, entry] : entries_) {
    if (keep(entry.record)) out.push_back(entry.record);
  }
  return out;
}

std::vector<AgentRecord> Registry::snapshotWithoutMetricsOfKinds(
    const std::set<std::string>& kinds) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<std::string> ids;  // sorted by agent id, like the other snapshots
  for (const std::string& kind : kinds) {
    auto of_kind = ids_by_kind_.find(kind);
    if (of_kind != ids_by_kind_.end()) ids.insert(of_kind->second.begin(), of_kind->second.end());
  }
  std::vector<AgentRecord> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    const AgentRecord& r = entries_.at(id).record;
    AgentRecord& copy = out.emplace_back();
    copy.hello = r.hello;
    copy.liveness = r.liveness;
    copy.registered_at_ms = r.registered_at_ms;
    copy.session_started_ms = r.session_started_ms;
    copy.last_seen_ms = r.last_seen_ms;
    copy.liveness_changed_ms = r.liveness_changed_ms;
    copy.last_seq = r.last_seq;
    copy.has_report = r.has_report;
    copy.last_report.seq = r.last_report.seq;
    copy.last_report.health = r.last_report.health;
    copy.last_report.role = r.last_report.role;
    copy.last_report.attributes = r.last_report.attributes;
    copy.last_report_ts_ms = r.last_report_ts_ms;
  }
  return out;
}

LivenessCounts Registry::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  LivenessCounts counts;
  for (const auto& [id, entry] : entries_) {
    switch (entry.record.liveness) {
      case Liveness::kAlive:
        ++counts.alive;
        break;
      case Liveness::kSuspect:
        ++counts.suspect;
        break;
      case Liveness::kLost:
        ++counts.lost;
        break;
    }
  }
  return counts;
}

std::vector<std::string> Registry::ids() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& [id, entry] : entries_) out.push_back(id);
  return out;
}

size_t Registry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

std::vector<LivenessChange> Registry::sweep(MonoTime now, int64_t now_wall_ms,
                                            const LivenessPolicy& policy,
                                            std::vector<AgentRecord>* changed_records) {
  std::vector<LivenessChange> changes;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, entry] : entries_) {
    const auto silent =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - entry.last_seen);
    const Liveness next = evaluateLiveness(
        silent, std::chrono::milliseconds(entry.record.hello.report_interval_ms), policy);
    // Liveness only degrades here; coming back to alive happens when a message arrives.
    if (static_cast<int>(next) <= static_cast<int>(entry.record.liveness)) continue;
    changes.push_back({id, entry.record.liveness, next, silent.count()});
    entry.record.liveness = next;
    entry.record.liveness_changed_ms = now_wall_ms;
    if (changed_records) changed_records->push_back(entry.record);
  }
  return changes;
}

}  // namespace noa::controller
