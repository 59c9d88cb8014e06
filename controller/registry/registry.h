#pragma once

// The controller's in-memory view of every agent. One writer (the ingest thread) and many
// readers (REST threads). Each entry also keeps the monotonic time of the agent's last
// message, which liveness is judged by (a wall-clock jump on the controller must not mark
// agents lost). Thread-safe.

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "controller/registry/agent_record.h"
#include "controller/registry/liveness.h"

namespace noa::controller {

struct LivenessChange {
  std::string agent_id;
  Liveness from;
  Liveness to;
  int64_t silent_ms;
};

struct LivenessCounts {
  size_t alive = 0;
  size_t suspect = 0;
  size_t lost = 0;
};

class Registry {
 public:
  // Replaces the contents with records loaded from the store. Agents that were not lost get a
  // fresh grace period from `now`: a controller restart alone must not mark them lost.
  void load(std::vector<AgentRecord> records, MonoTime now);

  void put(const AgentRecord& record, MonoTime last_seen);
  std::optional<AgentRecord> get(const std::string& agent_id) const;
  // In place, under the lock, without copying the record (the ingest path, once per report):
  // `change` returns true when it changed the record, which then counts as seen at `last_seen`.
  // Returns false for an unknown agent (`change` not called). `change` must not call back into
  // the registry.
  // A template, not a std::function: the ingest path's closure would be a heap allocation per
  // report.
  template <class Change>
  bool update(const std::string& agent_id, MonoTime last_seen, Change&& change) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(agent_id);
    if (it == entries_.end()) return false;
    const std::string old_kind = it->second.record.hello.kind;
    if (change(it->second.record)) it->second.last_seen = last_seen;
    indexKindLocked(agent_id, old_kind, it->second.record.hello.kind);
    return true;
  }
  // Calls `read` with the record under the lock; false for an unknown agent.
  bool read(const std::string& agent_id, const std::function<void(const AgentRecord&)>& read) const;
  std::vector<AgentRecord> snapshot() const;  // sorted by agent id
  // Only the records `keep` accepts (copied under the lock, so a fleet of thousands of
  // agents costs a scan, not a copy, for a caller that wants a few).
  std::vector<AgentRecord> snapshotIf(const std::function<bool(const AgentRecord&)>& keep) const;
  // The agents of these kinds (hello.kind), without each report's metrics (empty
  // last_report.metrics): for readers that need identity, liveness, role and attributes several
  // times a second (failover). Neither the other kinds' records are visited (an index by kind)
  // nor the metrics copied, which are most of a record's size (40 in a typical report).
  std::vector<AgentRecord> snapshotWithoutMetricsOfKinds(const std::set<std::string>& kinds) const;
  LivenessCounts counts() const;
  size_t size() const;
  // Every known agent id, sorted (no records copied).
  std::vector<std::string> ids() const;

  // Re-evaluates every agent's liveness; applies and returns the changes (with the updated
  // records for the caller to persist).
  std::vector<LivenessChange> sweep(MonoTime now, int64_t now_wall_ms, const LivenessPolicy& policy,
                                    std::vector<AgentRecord>* changed_records);

 private:
  struct Entry {
    AgentRecord record;
    MonoTime last_seen;
  };
  void indexKindLocked(const std::string& agent_id, const std::string& old_kind,
                       const std::string& new_kind);

  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;                      // GUARDED_BY(mu_)
  std::map<std::string, std::set<std::string>> ids_by_kind_;  // GUARDED_BY(mu_)
};

}  // namespace noa::controller
