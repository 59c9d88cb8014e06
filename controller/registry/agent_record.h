#pragma once

// What the controller knows about one agent: registry facts from its hello, liveness, and its
// latest report. Kept in memory by the ingest loop (the one writer) and persisted in the store's
// `agents` column family.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/messages.h"

namespace noa::controller {

enum class Liveness { kAlive, kSuspect, kLost };

std::string_view livenessName(Liveness liveness);  // "alive" | "suspect" | "lost"
std::optional<Liveness> parseLiveness(std::string_view name);

struct AgentRecord {
  protocol::Hello hello;             // registry facts (agent_id, service, kind, host, ...)
  Liveness liveness = Liveness::kAlive;
  int64_t registered_at_ms = 0;      // first hello ever (unix ms)
  int64_t session_started_ms = 0;    // latest hello
  int64_t last_seen_ms = 0;          // latest message of any kind (controller wall clock)
  int64_t liveness_changed_ms = 0;
  uint64_t last_seq = 0;
  bool has_report = false;
  protocol::Report last_report;      // valid when has_report
  int64_t last_report_ts_ms = 0;     // agent's envelope ts of last_report
  bool operator==(const AgentRecord&) const = default;
};

// One stored report of an agent.
struct HistoryEntry {
  // Controller receive time (the history key); the agent's own ts is inside the stored envelope.
  int64_t ts_ms = 0;
  uint64_t seq = 0;
  int64_t agent_ts_ms = 0;  // the envelope's ts (the agent's clock)
  protocol::Report report;
};

}  // namespace noa::controller
