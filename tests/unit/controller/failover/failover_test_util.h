#pragma once

// Members of a replicated service as their agents' reports describe them, for failover tests.

#include <string>

#include "controller/registry/agent_record.h"

namespace noa::controller::failover::testing {

struct MemberSpec {
  std::string id;
  std::string role = "replica";  // primary | replica | "" (down)
  std::string position = "0/3000000";  // LSN (postgres) or offset (redis)
  bool live = true;
  bool reachable = true;
  std::string fenced;
  bool exited = false;
  std::string kind = "postgres";
  std::string service = "postgres";
  int port = 5432;
  std::string replica_names;  // primaries: who replicates from it
  std::string sync_standbys;
  std::string upstream_port;  // redis replicas
};

inline AgentRecord memberRecord(const MemberSpec& s, int64_t now_ms) {
  AgentRecord r;
  r.hello.agent_id = s.id;
  r.hello.service = s.service;
  r.hello.kind = s.kind;
  r.hello.capabilities = {"ping", "fence", "unfence", "pg.promote", "pg.follow", "redis.promote",
                          "redis.follow"};
  r.liveness = s.reachable ? Liveness::kAlive : Liveness::kLost;
  r.last_seen_ms = s.reachable ? now_ms : now_ms - 60000;
  r.has_report = true;
  r.last_report.role = s.role;
  r.last_report.health.live = s.live;
  auto& a = r.last_report.attributes;
  a["endpoint_host"] = "127.0.0.1";
  a["endpoint_port"] = std::to_string(s.port);
  if (!s.fenced.empty()) a["fenced"] = s.fenced;
  a["service_process"] = s.exited ? "exited" : "running";
  if (s.kind == "postgres") {
    if (s.role == "replica") {
      a["receive_lsn"] = s.position;
      a["replay_lsn"] = s.position;
    } else if (s.role == "primary") {
      a["lsn"] = s.position;
      a["replica_names"] = s.replica_names;
      a["sync_standbys"] = s.sync_standbys;
    }
  } else {
    if (s.role == "replica") {
      a["slave_repl_offset"] = s.position;
      a["master_host"] = "127.0.0.1";
      a["master_port"] = s.upstream_port;
      a["master_link_status"] = "up";
    }
    a["master_repl_offset"] = s.position;
  }
  return r;
}

}  // namespace noa::controller::failover::testing
