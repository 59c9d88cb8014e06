#pragma once

// Builds the agent's command executor from its flags: the actions it offers, their host
// defaults, the journal and result spool in the state dir; and clears `.partial` files that an
// earlier run left behind when it died mid-write.

#include <memory>

#include "agent/commands/command_executor.h"
#include "agent/runtime/agent_fencing.h"
#include "agent/runtime/agent_config.h"
#include "common/clock.h"
#include "common/status.h"

namespace noa::agent {

// Null (and OK) when the agent offers no actions (--actions none). With `fencing` (postgres and
// redis agents with a lease), the `fence` and `unfence` actions are offered too; both take no
// params and go through the lease guard, so the persisted fence and the applied one agree.
Result<std::unique_ptr<commands::CommandExecutor>> openCommandExecutor(
    const AgentConfig& config, const Clock& clock, AgentFencing* fencing = nullptr);

}  // namespace noa::agent
