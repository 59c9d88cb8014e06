#include "controller/commands/command_target.h"

#include <algorithm>

namespace noa::controller::commands {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

Status checkCapability(const AgentRecord& agent, const std::string& action) {
  const auto& caps = agent.hello.capabilities;
  if (std::find(caps.begin(), caps.end(), action) != caps.end()) return Status::Ok();
  return Status::InvalidArgument("agent '" + agent.hello.agent_id + "' cannot run '" + action +
                                 "'; its actions: " + (caps.empty() ? "none" : join(caps)));
}

}  // namespace

Result<ResolvedTarget> resolveTarget(const std::vector<AgentRecord>& agents, const TargetSpec& spec,
                                     const std::string& action) {
  if (!spec.agent_id.empty()) {
    auto it = std::find_if(agents.begin(), agents.end(),
                           [&](const AgentRecord& a) { return a.hello.agent_id == spec.agent_id; });
    if (it == agents.end()) return Status::NotFound("no agent '" + spec.agent_id + "'");
    if (!spec.service.empty() && spec.service != it->hello.service) {
      return Status::InvalidArgument("agent '" + spec.agent_id + "' belongs to service '" +
                                     it->hello.service + "', not '" + spec.service + "'");
    }
    if (!spec.role.empty() && (!it->has_report || it->last_report.role != spec.role)) {
      return Status::InvalidArgument("agent '" + spec.agent_id + "' does not report role '" +
                                     spec.role + "'");
    }
    if (it->liveness == Liveness::kLost) {
      return Status::Unavailable("agent '" + spec.agent_id + "' is lost");
    }
    NOA_RETURN_IF_ERROR(checkCapability(*it, action));
    return ResolvedTarget{it->hello.agent_id, it->hello.service, spec.role};
  }
  if (spec.service.empty()) {
    return Status::InvalidArgument("a command needs a target: an agent id, or a service and role");
  }
  std::vector<const AgentRecord*> candidates;
  for (const auto& a : agents) {
    if (a.hello.service != spec.service || a.liveness == Liveness::kLost) continue;
    if (!spec.role.empty() && (!a.has_report || a.last_report.role != spec.role)) continue;
    candidates.push_back(&a);
  }
  const std::string what = spec.role.empty()
                               ? "service '" + spec.service + "'"
                               : "role '" + spec.role + "' of service '" + spec.service + "'";
  if (candidates.empty()) return Status::NotFound("no live agent has the " + what);
  if (candidates.size() > 1) {
    std::vector<std::string> ids;
    for (const auto* a : candidates) ids.push_back(a->hello.agent_id);
    return Status::FailedPrecondition(std::to_string(candidates.size()) + " agents have the " +
                                      what + " (" + join(ids) + "); name one by agent id");
  }
  NOA_RETURN_IF_ERROR(checkCapability(*candidates.front(), action));
  return ResolvedTarget{candidates.front()->hello.agent_id, spec.service, spec.role};
}

Result<std::vector<ResolvedTarget>> resolveAllTargets(const std::vector<AgentRecord>& agents,
                                                      const TargetSpec& spec,
                                                      const std::string& action) {
  if (!spec.agent_id.empty() || spec.service.empty()) {
    return Status::InvalidArgument("a fan-out needs a service (and optionally a role), no agent");
  }
  std::vector<ResolvedTarget> targets;
  for (const auto& a : agents) {
    if (a.hello.service != spec.service || a.liveness == Liveness::kLost) continue;
    if (!spec.role.empty() && (!a.has_report || a.last_report.role != spec.role)) continue;
    NOA_RETURN_IF_ERROR(checkCapability(a, action));
    targets.push_back({a.hello.agent_id, spec.service, spec.role});
  }
  if (targets.empty()) {
    return Status::NotFound("no live agent has the " +
                            (spec.role.empty()
                                 ? "service '" + spec.service + "'"
                                 : "role '" + spec.role + "' of service '" + spec.service + "'"));
  }
  return targets;
}

}  // namespace noa::controller::commands
