#pragma once

// noa-agent's flags (each also settable as NOA_<FLAG>), parsed and validated in one place.

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/flags.h"
#include "common/status.h"

namespace noa::agent {

struct AgentConfig {
  std::string agent_id;
  std::string service;
  std::string kind = "generic";  // generic | tcp | http | postgres | redis | llama
  std::string service_host = "127.0.0.1";
  int service_port = 0;
  std::string controller = "tcp://127.0.0.1:7701";
  std::chrono::milliseconds report_interval{1000};
  uint32_t controller_timeout_intervals = 3;
  std::chrono::milliseconds probe_period{1000};
  std::chrono::milliseconds probe_timeout{1000};
  uint32_t probe_failure_threshold = 3;
  std::string pg_conninfo;          // postgres kind; may hold a password: never logged
  std::string redis_password_file;  // redis kind
  std::string host;                 // this machine's name in hello; default gethostname()
  std::string http_listen;          // "HOST:PORT" of /health + /metrics; empty = off
  std::string http_host;            // parsed from http_listen
  int http_port = 0;                // parsed from http_listen; 0 = any free port
  // Resource metrics: the service's cgroup v2 directory, else the process tree of a PID or of
  // the PID in a pidfile; all empty = none.
  std::string cgroup_dir;
  int64_t service_pid = 0;
  std::string service_pidfile;
  // The service's own Prometheus endpoint (empty = off), which metrics to keep, and its timeout.
  std::string metrics_url;
  std::vector<std::string> metrics_allow;
  std::chrono::milliseconds metrics_timeout{2000};
  // Agent channel security: this agent's key pair lives in state_dir (agent.key 0600,
  // agent.pub; default /var/lib/noa-agent/<agent-id>); the controller's public key comes from
  // controller_public_key or, when that is empty, is read from controller_public_key_file.
  // insecure_plaintext switches CURVE off (development only; the controller must agree).
  std::string state_dir;
  std::string controller_public_key;
  std::string controller_public_key_file;
  bool insecure_plaintext = false;
  // Non-empty: the agent drops root privileges to this user at start (the least privilege its
  // probes and actions need; e.g. "postgres" beside PostgreSQL, "redis" beside Redis).
  std::string run_as;
  // Commands: the actions this agent runs (default by kind, see agent/commands/action_defaults.h)
  // and the host paths they use when a command does not name them. lock_dir defaults to
  // <state_dir>/locks (the per-target locks shared by backup, restore and retention).
  std::vector<std::string> actions;
  std::string backup_dir;
  std::string snapshot_dir;
  std::string models_dir;
  std::string lock_dir;
  // Replication (postgres/redis primaries and replicas). The PostgreSQL data dir and binaries
  // are what fencing (fast stop), rejoin (pg_rewind) and restart (postmaster.opts) work on.
  std::string pg_data_dir;
  std::string pg_bin_dir = "/usr/lib/postgresql/15/bin";
  // The leader lease this agent assumes until the controller's acks say otherwise: a primary
  // without a valid lease stops accepting writes (agent/runtime/lease_guard.h). 0 = fencing off
  // (a standalone service without failover).
  std::chrono::milliseconds lease{2000};
  // Kubernetes: keep this pod's label `k8s_pod_label` = primary | replica (agent/runtime/
  // pod_labeler.h); empty = off. The rest is resolved from the in-cluster defaults when on.
  std::string k8s_pod_label;
  std::string k8s_api_server;  // https://host:port
  std::string k8s_token_file;
  std::string k8s_ca_file;
  std::string k8s_namespace;
  std::string k8s_pod;
  CommonFlags common;
};

po::options_description agentFlags();

// Parses and validates; errors name the flag.
Status parseAgentConfig(int argc, const char* const* argv, AgentConfig& config);

// The key pair's file name in state_dir (agent.key / agent.pub).
inline constexpr char kAgentKeyName[] = "agent";

// The effective config for --check-config and logs, with secrets redacted.
nlohmann::json toJson(const AgentConfig& config);

}  // namespace noa::agent
