#pragma once

// What the failover decisions need to know about one member of a replicated service, read from
// its agent's latest report (attribute names: schemas/protocol-v1.md, "report attributes for
// replication"). Pure.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/registry/agent_record.h"

namespace noa::controller::failover {

struct MemberState {
  std::string agent_id;
  std::string kind;     // postgres | redis
  bool reachable = false;  // the agent is alive and was heard from recently
  int64_t last_seen_ms = 0;
  std::string role;     // primary | replica | "" (service down or unknown)
  bool live = false;    // liveness probe passing
  bool process_exited = false;  // the agent saw the service's process exit
  std::string fenced;   // "" | no_lease | controller
  bool fence_applied = false;  // the agent's fence is (still) in force, e.g. while it unfences
  bool lease_valid = false;
  uint64_t lease_epoch = 0;
  // PostgreSQL: WAL position (a replica: the larger of receive and replay, since promotion
  // replays what was received); Redis: the replication offset.
  std::optional<uint64_t> position;
  std::string position_text;
  std::string timeline;
  std::string endpoint_host;
  int endpoint_port = 0;
  // Redis replicas: where they replicate from and whether the link is up.
  std::string upstream_host;
  int upstream_port = 0;
  bool upstream_up = false;
  // PostgreSQL primaries: application names of connected and of synchronous standbys.
  std::vector<std::string> replica_names;
  std::vector<std::string> sync_standbys;

  // Serving as a primary right now: reachable, reports primary, live, not fenced.
  bool servingPrimary() const {
    return reachable && role == "primary" && live && !process_exited && fenced.empty();
  }
  // A replica that could be promoted (lag and policy are checked elsewhere).
  bool healthyReplica() const {
    return reachable && role == "replica" && live && !process_exited && position.has_value();
  }
};

// `now_ms` (controller wall clock) and `stale_after_ms` decide `reachable`.
MemberState memberFromRecord(const AgentRecord& record, int64_t now_ms, int64_t stale_after_ms);

// A PostgreSQL LSN "X/Y" or a Redis offset (decimal) as one number.
std::optional<uint64_t> parsePosition(const std::string& kind, const std::string& text);

}  // namespace noa::controller::failover
