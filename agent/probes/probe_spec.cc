#include "agent/probes/probe_spec.h"

namespace noa::agent {
namespace {

using std::chrono::milliseconds;

// Kubernetes allows nothing below 1 s; the agent probes local services, where sub-second
// detection is cheap and tests run at 200 ms, so the floors are lower (defaults stay K8s').
constexpr milliseconds kMinPeriod{100};
constexpr milliseconds kMinTimeout{50};

Status fieldError(const ProbeSpec& spec, std::string_view field, const std::string& what) {
  return Status::InvalidArgument("probe '" + spec.name + "': " + std::string(field) + " " + what);
}

bool validPort(int port) { return port >= 1 && port <= 65535; }

// Quotes a libpq conninfo value: single quotes, with \ and ' escaped.
std::string connValue(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

Status validateHandler(const ProbeSpec& spec) {
  return std::visit(
      [&](const auto& h) -> Status {
        using T = std::decay_t<decltype(h)>;
        if constexpr (std::is_same_v<T, HttpGet>) {
          if (h.host.empty()) return fieldError(spec, "http.host", "must not be empty");
          if (!validPort(h.port)) {
            return fieldError(spec, "http.port", "must be 1..65535 (got " +
                                                     std::to_string(h.port) + ")");
          }
          if (h.path.empty() || h.path[0] != '/') {
            return fieldError(spec, "http.path", "must start with '/'");
          }
          if (h.scheme != "http") {
            return fieldError(spec, "http.scheme", "must be \"http\" (got \"" + h.scheme + "\")");
          }
        } else if constexpr (std::is_same_v<T, TcpSocket>) {
          if (h.host.empty()) return fieldError(spec, "tcp.host", "must not be empty");
          if (!validPort(h.port)) {
            return fieldError(spec, "tcp.port", "must be 1..65535 (got " +
                                                    std::to_string(h.port) + ")");
          }
        } else if constexpr (std::is_same_v<T, Exec>) {
          if (h.argv.empty() || h.argv[0].empty()) {
            return fieldError(spec, "exec.argv", "must name a program");
          }
        } else if constexpr (std::is_same_v<T, PostgresCheck>) {
          if (h.conninfo.empty()) return fieldError(spec, "postgres.conninfo", "must not be empty");
        } else if constexpr (std::is_same_v<T, RedisCheck>) {
          if (h.host.empty()) return fieldError(spec, "redis.host", "must not be empty");
          if (!validPort(h.port)) {
            return fieldError(spec, "redis.port", "must be 1..65535 (got " +
                                                      std::to_string(h.port) + ")");
          }
        }
        return Status::Ok();
      },
      spec.handler);
}

ProbeSpec makeSpec(std::string name, ProbeType type, ProbeHandler handler,
                   const DefaultProbeOptions& o) {
  ProbeSpec s;
  s.name = std::move(name);
  s.type = type;
  s.handler = std::move(handler);
  s.period = o.period;
  s.timeout = o.timeout;
  s.failure_threshold = o.failure_threshold;
  return s;
}

}  // namespace

std::string_view probeTypeName(ProbeType type) {
  switch (type) {
    case ProbeType::kLiveness: return "liveness";
    case ProbeType::kReadiness: return "readiness";
    case ProbeType::kStartup: return "startup";
  }
  return "unknown";
}

Result<ProbeType> parseProbeType(std::string_view name) {
  if (name == "liveness") return ProbeType::kLiveness;
  if (name == "readiness") return ProbeType::kReadiness;
  if (name == "startup") return ProbeType::kStartup;
  return Status::InvalidArgument("unknown probe type \"" + std::string(name) +
                                 "\" (liveness, readiness or startup)");
}

std::string_view handlerName(const ProbeHandler& handler) {
  static constexpr std::string_view kNames[] = {"http", "tcp", "exec", "postgres", "redis"};
  return kNames[handler.index()];
}

Status validate(const ProbeSpec& spec) {
  if (spec.name.empty()) return Status::InvalidArgument("probe name must not be empty");
  if (spec.initial_delay.count() < 0) {
    return fieldError(spec, "initial_delay_ms", "must be >= 0 (got " +
                                                    std::to_string(spec.initial_delay.count()) +
                                                    ")");
  }
  if (spec.period < kMinPeriod) {
    return fieldError(spec, "period_ms",
                      "must be >= " + std::to_string(kMinPeriod.count()) + " (got " +
                          std::to_string(spec.period.count()) + ")");
  }
  if (spec.timeout < kMinTimeout) {
    return fieldError(spec, "timeout_ms",
                      "must be >= " + std::to_string(kMinTimeout.count()) + " (got " +
                          std::to_string(spec.timeout.count()) + ")");
  }
  if (spec.success_threshold < 1) {
    return fieldError(spec, "success_threshold", "must be >= 1 (got 0)");
  }
  if (spec.failure_threshold < 1) {
    return fieldError(spec, "failure_threshold", "must be >= 1 (got 0)");
  }
  if (spec.type != ProbeType::kReadiness && spec.success_threshold != 1) {
    return fieldError(spec, "success_threshold",
                      "must be 1 for " + std::string(probeTypeName(spec.type)) + " probes (got " +
                          std::to_string(spec.success_threshold) + ")");
  }
  return validateHandler(spec);
}

Result<std::vector<ProbeSpec>> defaultProbesFor(std::string_view kind, const std::string& host,
                                                int port, const DefaultProbeOptions& options) {
  std::vector<ProbeSpec> out;
  auto http = [&](std::string path) {
    HttpGet h;
    h.host = host;
    h.port = port;
    h.path = std::move(path);
    return h;
  };
  if (kind == "http") {
    out.push_back(makeSpec("liveness", ProbeType::kLiveness, http("/health"), options));
    out.push_back(makeSpec("readiness", ProbeType::kReadiness, http("/health/ready"), options));
    out.push_back(makeSpec("startup", ProbeType::kStartup, http("/health/startup"), options));
    out.back().failure_threshold = options.startup_failure_threshold;
  } else if (kind == "postgres") {
    std::string conninfo = "host=" + connValue(host) + " port=" + std::to_string(port) +
                           " user=" + connValue(options.postgres_user) +
                           " dbname=" + connValue(options.postgres_dbname);
    if (!options.postgres_password.empty()) {
      conninfo += " password=" + connValue(options.postgres_password);
    }
    out.push_back(makeSpec("readiness", ProbeType::kReadiness, PostgresCheck{conninfo}, options));
    out.push_back(makeSpec("liveness", ProbeType::kLiveness, PostgresCheck{conninfo}, options));
  } else if (kind == "redis") {
    RedisCheck r{host, port, options.redis_password};
    out.push_back(makeSpec("readiness", ProbeType::kReadiness, r, options));
    out.push_back(makeSpec("liveness", ProbeType::kLiveness, r, options));
  } else if (kind == "llama") {
    // llama.cpp's server answers 503 on /health while the model loads and refuses connections
    // before it listens; both are failures, so startup keeps waiting and readiness stays false.
    out.push_back(makeSpec("startup", ProbeType::kStartup, http("/health"), options));
    out.back().failure_threshold = options.startup_failure_threshold;
    out.push_back(makeSpec("readiness", ProbeType::kReadiness, http("/health"), options));
  } else if (kind == "tcp" || kind == "generic") {
    TcpSocket t{host, port};
    out.push_back(makeSpec("readiness", ProbeType::kReadiness, t, options));
    out.push_back(makeSpec("liveness", ProbeType::kLiveness, t, options));
  } else {
    return Status::InvalidArgument("unknown service kind \"" + std::string(kind) +
                                   "\" (http, postgres, redis, llama, tcp or generic)");
  }
  for (const auto& s : out) NOA_RETURN_IF_ERROR(validate(s));
  return out;
}

}  // namespace noa::agent
