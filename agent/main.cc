// noa-agent: the sidecar beside each service. See `noa-agent --help`.

#include <malloc.h>
#include <unistd.h>

#include <iostream>
#include <string_view>

#include "agent/runtime/agent_config.h"
#include "agent/runtime/agent_probes.h"
#include "agent/runtime/agent_runtime.h"
#include "agent/runtime/privileges.h"
#include "common/log.h"

int main(int argc, char** argv) {
  // glibc gives each thread that allocates its own arena (up to 8 per core), and the agent has
  // a dozen mostly idle threads; two arenas are plenty for its few small allocations and keep
  // the resident heap from growing with the thread count. Before any thread starts.
  mallopt(M_ARENA_MAX, 2);
  using namespace noa::agent;
  if (argc > 1 && std::string_view(argv[1]) == "show-key") return runShowKey(argc - 1, argv + 1);
  AgentConfig config;
  noa::Status parsed = parseAgentConfig(argc, argv, config);
  if (parsed.ok() && !config.common.help) parsed = probesForAgent(config).status();
  if (!parsed.ok()) {
    std::cerr << "noa-agent: " << parsed.message() << "\nSee `noa-agent --help`.\n";
    return kExitBadConfig;
  }
  if (config.common.help) {
    std::cout << noa::usageText("noa-agent [show-key]",
                                "Probes the service beside it and reports to noa-controller.",
                                agentFlags());
    return kExitOk;
  }
  if (config.common.check_config) {
    std::cout << toJson(config).dump(2) << "\nconfig ok\n";
    return kExitOk;
  }
  noa::log::init("agent", config.common.log_level);
  // Before any thread starts and before any file is read: everything after runs as that user.
  if (!config.run_as.empty()) {
    if (noa::Status dropped = dropPrivilegesTo(config.run_as); !dropped.ok()) {
      noa::log::error("cannot drop privileges", {{"error", dropped.toString()}});
      std::cerr << "noa-agent: " << dropped.message() << "\n";
      return kExitBadConfig;
    }
    noa::log::info("running as", {{"user", config.run_as}, {"uid", getuid()}});
  } else if (geteuid() == 0) {
    noa::log::warn("running as root; --run-as USER gives that up when no action needs root");
  }
  return runAgent(config);
}
