#pragma once

// What the controller knows about one service: its agents (replicas) grouped, counted and
// aggregated, and for replicated services who is primary and how far each replica lags. Pure:
// computed from registry records, shared by the REST API and the /metrics scrape.
//
// Rules:
// - `ready` members reported ready and are not lost (a lost agent's report is stale). Only
//   ready members that are also alive (not suspect) count in the aggregates.
// - Lost members keep their last role and health in the member list, but get no CPU, memory
//   or lag: those would be stale numbers that look current.
// - CPU is a ratio: cpu_usage_ratio_of_limit when reported, else cpu_usage_cores (of one core).
//   Memory is memory_usage_ratio, or memory_bytes / memory_limit_bytes; none without a limit.
// - Replication lag: the agent's own replication_lag_bytes / replication_lag_seconds
//   attributes win; otherwise the bytes are computed against the one primary that is not lost
//   (postgres: primary "lsn" - replica "replay_lsn"; redis: primary "master_repl_offset" -
//   replica "slave_repl_offset" or "master_repl_offset"), never below 0. With no primary, or
//   more than one, nothing is computed.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/metric_names.h"
#include "controller/registry/agent_record.h"

namespace noa::controller {


// One value over the members that count in aggregates and reported it. Meaningless (and all
// zero) when count is 0.
struct Aggregate {
  size_t count = 0;
  double sum = 0;
  double avg = 0;
  double max = 0;
  bool operator==(const Aggregate&) const = default;
};

enum class LagSource { kNone, kAgent, kComputed };
std::string_view lagSourceName(LagSource source);  // "" | "agent" | "computed"

struct MemberView {
  std::string agent_id;
  std::string host;
  std::string kind;
  Liveness liveness = Liveness::kAlive;
  std::string health = "unknown";  // the reported health.state; "unknown" before any report
  std::string role;                // "" | "primary" | "replica", as last reported
  bool ready = false;              // reported ready and not lost
  bool counted = false;            // ready and alive: in the aggregates
  std::optional<double> cpu_ratio;
  std::optional<double> memory_ratio;
  std::optional<int64_t> lag_bytes;  // replicas only
  std::optional<double> lag_seconds;
  LagSource lag_source = LagSource::kNone;
  bool operator==(const MemberView&) const = default;
};

struct ReplicationView {
  std::optional<std::string> primary;  // the one primary that is not lost
  std::vector<std::string> primaries;  // every non-lost member reporting primary (2+: conflict)
  std::vector<std::string> replicas;   // non-lost members reporting replica
  std::optional<int64_t> max_lag_bytes;
  bool operator==(const ReplicationView&) const = default;
};

struct ServiceView {
  std::string name;
  std::string kind;  // the members' kind, "mixed" when they disagree
  size_t known = 0;
  size_t alive = 0;
  size_t suspect = 0;
  size_t lost = 0;
  size_t healthy = 0;  // reported healthy and not lost
  size_t ready = 0;
  size_t counted = 0;  // ready and alive
  Aggregate cpu_ratio;
  Aggregate memory_ratio;
  std::map<std::string, Aggregate> metrics;  // every reported metric, by name
  // Set for postgres and redis services and whenever a member reports a role.
  std::optional<ReplicationView> replication;
  std::vector<MemberView> members;  // sorted by agent id
  bool operator==(const ServiceView&) const = default;
};

// `members` are the records of one service (the first one's service name is used); any order.
ServiceView summarizeService(const std::vector<AgentRecord>& members);

// Every service in `agents`, sorted by name.
std::vector<ServiceView> summarizeServices(const std::vector<AgentRecord>& agents);

// "X/Y" (two hex numbers, as PostgreSQL prints an LSN) -> (X << 32) + Y.
std::optional<uint64_t> parseLsn(std::string_view text);

}  // namespace noa::controller
