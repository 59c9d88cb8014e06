#pragma once

// Who runs a command: an agent named by id, or "the <role> of <service>" (e.g. the postgres
// primary) resolved once, at creation, from the agents' latest reports. Pure: no registry
// lock, no clock; the caller passes a snapshot of the records.

#include <string>
#include <vector>

#include "common/status.h"
#include "controller/registry/agent_record.h"

namespace noa::controller::commands {

struct TargetSpec {
  std::string agent_id;  // either this ...
  std::string service;   // ... or this, with an optional role ("primary", "replica")
  std::string role;
};

struct ResolvedTarget {
  std::string agent_id;
  std::string service;
  std::string role;  // as asked ("" when addressed by agent id)
};

// Rules:
//  - agent_id given: the agent must be known (NotFound) and not lost (Unavailable); service and
//    role, when also given, must match it (InvalidArgument).
//  - service (+ role): the candidates are the service's agents that are not lost and, with a
//    role, whose last report says that role. None -> NotFound naming service and role; more
//    than one -> FailedPrecondition listing them (a command must not pick one at random; two
//    primaries is a split brain for someone to look at).
//  - `action` must be among the agent's advertised capabilities (InvalidArgument listing them);
//    an agent that advertises none is refused too: it cannot run anything.
Result<ResolvedTarget> resolveTarget(const std::vector<AgentRecord>& agents, const TargetSpec& spec,
                                     const std::string& action);

// Fan-out ("all": true): every agent of `spec.service` that is not lost and, with a role,
// whose last report says that role. None -> NotFound; an agent among them that does not
// advertise `action` -> InvalidArgument naming it (all or nothing: an operator asking for
// "all" should not silently get fewer). spec.agent_id must be empty (InvalidArgument).
Result<std::vector<ResolvedTarget>> resolveAllTargets(const std::vector<AgentRecord>& agents,
                                                      const TargetSpec& spec,
                                                      const std::string& action);

}  // namespace noa::controller::commands
