#include "agent/runtime/agent_probes.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace noa::agent {

Result<std::string> readPasswordFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("--redis-password-file '" + path +
                                   "': cannot read it: " + std::strerror(errno));
  }
  std::ostringstream content;
  content << in.rdbuf();
  std::string password = content.str();
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  if (password.empty()) {
    return Status::InvalidArgument("--redis-password-file '" + path + "' is empty");
  }
  return password;
}

Result<std::vector<ProbeSpec>> probesForAgent(const AgentConfig& config) {
  if (config.kind == "generic" && config.service_port == 0) return std::vector<ProbeSpec>{};
  DefaultProbeOptions options;
  options.period = config.probe_period;
  options.timeout = config.probe_timeout;
  options.failure_threshold = config.probe_failure_threshold;
  if (config.kind == "redis" && !config.redis_password_file.empty()) {
    NOA_ASSIGN_OR_RETURN(options.redis_password, readPasswordFile(config.redis_password_file));
  }
  auto probes = defaultProbesFor(config.kind, config.service_host, config.service_port, options);
  if (!probes.ok()) return probes.status().withContext("probes for --kind " + config.kind);
  if (config.kind == "postgres" && !config.pg_conninfo.empty()) {
    for (auto& p : *probes) std::get<PostgresCheck>(p.handler).conninfo = config.pg_conninfo;
  }
  return probes;
}

}  // namespace noa::agent
