#pragma once

// What to probe and how often, with Kubernetes probe semantics and defaults
// (initialDelaySeconds 0, periodSeconds 10, timeoutSeconds 1, successThreshold 1,
// failureThreshold 3). See /work/shared/reference/hpa-probes-consul-sentinel.md section 2.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"

namespace noa::agent {

enum class ProbeType { kLiveness, kReadiness, kStartup };

std::string_view probeTypeName(ProbeType type);  // "liveness" | "readiness" | "startup"
Result<ProbeType> parseProbeType(std::string_view name);

// GET scheme://host:port/path; 200 <= status < 400 is success.
struct HttpGet {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/";
  std::string scheme = "http";  // only "http" for now
  std::vector<std::pair<std::string, std::string>> headers;
};

// A TCP connect within the timeout is success.
struct TcpSocket {
  std::string host = "127.0.0.1";
  int port = 0;
};

// Exit code 0 is success; no shell.
struct Exec {
  std::vector<std::string> argv;
};

// libpq conninfo; SELECT 1 is success, plus replication facts (role, lsn, lag).
struct PostgresCheck {
  std::string conninfo;
};

// PING answered is success, plus INFO replication/memory facts.
struct RedisCheck {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;  // empty = no AUTH; never logged or put in a detail
};

using ProbeHandler = std::variant<HttpGet, TcpSocket, Exec, PostgresCheck, RedisCheck>;

std::string_view handlerName(const ProbeHandler& handler);  // "http" | "tcp" | "exec" | ...

struct ProbeSpec {
  std::string name;  // unique within an agent, e.g. "readiness"
  ProbeType type = ProbeType::kReadiness;
  ProbeHandler handler;
  std::chrono::milliseconds initial_delay{0};
  std::chrono::milliseconds period{10000};
  std::chrono::milliseconds timeout{1000};
  uint32_t success_threshold = 1;  // must be 1 for liveness and startup
  uint32_t failure_threshold = 3;
};

// Checks the Kubernetes rules (thresholds >= 1, success_threshold 1 for liveness and startup,
// initial_delay >= 0) with lower floors than Kubernetes' 1 s (period >= 100 ms, timeout >= 50 ms)
// and the handler fields. The message names the field, e.g.
// "probe 'ready': period_ms must be >= 100 (got 50)".
Status validate(const ProbeSpec& spec);

// Options for the built-in probe sets.
struct DefaultProbeOptions {
  std::chrono::milliseconds period{10000};
  std::chrono::milliseconds timeout{1000};
  uint32_t failure_threshold = 3;
  // llama: model loading can take minutes; startup allows failure_threshold x period for it.
  uint32_t startup_failure_threshold = 30;
  std::string postgres_user = "postgres";
  std::string postgres_dbname = "postgres";
  std::string postgres_password;  // never logged
  std::string redis_password;     // never logged
};

// The built-in probes for a service kind:
//   "http"     /health liveness, /health/ready readiness, /health/startup startup
//   "postgres" PostgresCheck as readiness and liveness
//   "redis"    RedisCheck as readiness and liveness
//   "llama"    /health as startup and readiness (connection refused or 503 = still loading)
//   "tcp", "generic"  TcpSocket as readiness and liveness
// Unknown kinds are InvalidArgument.
Result<std::vector<ProbeSpec>> defaultProbesFor(std::string_view kind, const std::string& host,
                                                int port, const DefaultProbeOptions& options = {});

}  // namespace noa::agent
