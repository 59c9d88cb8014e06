#include "controller/registry/registry.h"

namespace noa::controller {

void Registry::load(std::vector<AgentRecord> records, MonoTime now) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
  for (auto& record : records) {
    std::string id = record.hello.agent_id;
    entries_[id] = Entry{std::move(record), now};
  }
}

void Registry::put(const AgentRecord& record, MonoTime last_seen) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_[record.hello.agent_id] = Entry{record, last_seen};
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

LivenessCounts Registry::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  LivenessCounts counts;
  for (const auto& [id, entry] : entries_) {
    switch (entry.record.liveness) {
      case Liveness::kAlive: ++counts.alive; break;
      case Liveness::kSuspect: ++counts.suspect; break;
      case Liveness::kLost: ++counts.lost; break;
    }
  }
  return counts;
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
    const auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(now - entry.last_seen);
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
