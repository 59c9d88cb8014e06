#include "controller/store/history_refresh.h"

namespace noa::controller {

Result<size_t> refreshFromHistory(const Store& store, std::vector<AgentRecord>& agents) {
  size_t refreshed = 0;
  for (AgentRecord& record : agents) {
    NOA_ASSIGN_OR_RETURN(auto newest, store.readRecentHistory(record.hello.agent_id, 1));
    if (newest.empty()) continue;
    HistoryEntry& entry = newest.front();
    // History is keyed by the controller's receive time, the same clock as last_seen_ms. A
    // record written after the report (a hello, a liveness change) is already newer.
    const bool newer = entry.ts_ms > record.last_seen_ms ||
                       (entry.ts_ms == record.last_seen_ms && entry.seq > record.last_seq);
    if (!newer) continue;
    record.last_report = std::move(entry.report);
    record.has_report = true;
    record.last_seq = entry.seq;
    record.last_report_ts_ms = entry.agent_ts_ms;
    record.last_seen_ms = entry.ts_ms;
    ++refreshed;
  }
  return refreshed;
}

}  // namespace noa::controller
