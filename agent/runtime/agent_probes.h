#pragma once

// The probes an agent runs, built from its flags: the built-in set for --kind with the probe
// flags applied, --pg-conninfo in place of the default conninfo, and the Redis password read
// from --redis-password-file. Used by --check-config too, so a missing password file is a
// configuration error before anything starts.

#include <string>
#include <vector>

#include "agent/probes/probe_spec.h"
#include "agent/runtime/agent_config.h"
#include "common/status.h"

namespace noa::agent {

// The file's content without its trailing newline; InvalidArgument naming the flag when it cannot
// be read or is empty. The password itself never appears in a message.
Result<std::string> readPasswordFile(const std::string& path);

// Empty for --kind generic without --service-port (nothing to probe).
Result<std::vector<ProbeSpec>> probesForAgent(const AgentConfig& config);

}  // namespace noa::agent
