// FailoverCoordinator's operator side: the views REST shows, switchover, forced failover and
// pause/resume. Each takes the coordinator's lock, checks the stored state, and starts a
// transition that tick() then drives (failover_coordinator.cc).

#include "controller/failover/failover_coordinator.h"

namespace noa::controller::failover {
namespace {

const MemberState* findMember(const std::vector<MemberState>& members, const std::string& id) {
  for (const auto& m : members) {
    if (m.agent_id == id) return &m;
  }
  return nullptr;
}

}  // namespace

ServiceFailoverView FailoverCoordinator::viewLocked(const LeaderRecord& record,
                                                    const std::vector<MemberState>& members) const {
  ServiceFailoverView v;
  v.record = record;
  v.members = members;
  if (!record.leader.empty()) {
    if (const MemberState* m = findMember(members, record.leader)) v.leader = *m;
    v.leader_health = std::string(leaderHealthName(assessLeader(record.leader, members).health));
    v.lease_valid = !leases_.surelyExpired(record.service, clock_.now(), std::chrono::milliseconds(0));
  }
  return v;
}

std::vector<ServiceFailoverView> FailoverCoordinator::views() const {
  auto grouped = membersByService();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ServiceFailoverView> out;
  for (const auto& [service, record] : records_) out.push_back(viewLocked(record, grouped[service]));
  return out;
}

Result<ServiceFailoverView> FailoverCoordinator::view(const std::string& service) const {
  auto grouped = membersByService();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(service);
  if (it == records_.end()) {
    if (!grouped.count(service)) return Status::NotFound("no replicated service '" + service + "'");
    LeaderRecord empty;
    empty.service = service;
    return viewLocked(empty, grouped[service]);
  }
  return viewLocked(it->second, grouped[service]);
}

Result<ServiceFailoverView> FailoverCoordinator::switchover(const std::string& service,
                                                            const std::string& to,
                                                            const std::string& by) {
  auto grouped = membersByService();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(service);
  if (it == records_.end() || !grouped.count(service)) {
    return Status::NotFound("no replicated service '" + service + "'");
  }
  LeaderRecord& record = it->second;
  const auto& members = grouped[service];
  if (record.transition) {
    return Status::FailedPrecondition(std::string("a ") + std::string(transitionKindName(record.transition->kind)) +
                                      " is in progress (phase " + std::string(phaseName(record.transition->phase)) + ")");
  }
  if (record.leader.empty()) return Status::FailedPrecondition("no leader yet: use failover --to");
  const LeaderAssessment a = assessLeader(record.leader, members);
  if (a.health != LeaderHealth::kServing) {
    return Status::FailedPrecondition("a switchover needs a serving leader, and " + a.reason +
                                      ": use noactl failover " + service + " --to MEMBER");
  }
  CandidateRules rules;
  rules.check_lag = false;
  rules.excluded.insert(record.leader);
  if (!to.empty()) rules.fixed = to;
  CandidateChoice choice = chooseCandidate(members, policies_.of(service), rules);
  if (!choice.chosen) return Status::FailedPrecondition("switchover impossible: " + choice.reason);
  NOA_RETURN_IF_ERROR(startTransition(record, TransitionKind::kSwitchover, *choice.chosen,
                                      "switchover to " + *choice.chosen + " requested by " + by,
                                      members, clock_.now()));
  return viewLocked(record, members);
}

Result<ServiceFailoverView> FailoverCoordinator::forceFailover(const std::string& service,
                                                               const std::string& to,
                                                               const std::string& by) {
  if (to.empty()) return Status::InvalidArgument("a forced failover names its candidate (--to MEMBER)");
  auto grouped = membersByService();
  std::lock_guard<std::mutex> lock(mu_);
  if (!grouped.count(service)) return Status::NotFound("no replicated service '" + service + "'");
  LeaderRecord& record = records_[service];
  record.service = service;
  const auto& members = grouped[service];
  if (record.transition) {
    return Status::FailedPrecondition(std::string("a ") + std::string(transitionKindName(record.transition->kind)) +
                                      " is in progress (phase " + std::string(phaseName(record.transition->phase)) + ")");
  }
  if (to == record.leader) return Status::InvalidArgument(to + " is already the leader");
  CandidateRules rules;
  rules.check_lag = false;
  rules.fixed = to;
  CandidateChoice choice = chooseCandidate(members, policies_.of(service), rules);
  if (!choice.chosen) return Status::InvalidArgument("cannot fail over to " + to + ": " + choice.reason);
  NOA_RETURN_IF_ERROR(startTransition(record, TransitionKind::kForced, to,
                                      "forced failover to " + to + " requested by " + by, members,
                                      clock_.now()));
  return viewLocked(record, members);
}

Result<ServiceFailoverView> FailoverCoordinator::setPaused(const std::string& service, bool paused,
                                                           const std::string& reason,
                                                           const std::string& by) {
  auto grouped = membersByService();
  std::lock_guard<std::mutex> lock(mu_);
  if (!grouped.count(service) && !records_.count(service)) {
    return Status::NotFound("no replicated service '" + service + "'");
  }
  LeaderRecord& record = records_[service];
  record.service = service;
  const LeaderRecord before = record;
  record.paused = paused;
  record.paused_reason = paused ? (reason.empty() ? "paused by " + by : reason + " (" + by + ")") : "";
  if (!save(record)) {
    record = before;
    return Status::Unavailable("the leader record could not be stored");
  }
  decide(service, kDecisionKind, paused ? "pause" : "resume",
         paused ? "automatic failover paused: " + record.paused_reason
                : "automatic failover resumed by " + by);
  return viewLocked(record, grouped[service]);
}

}  // namespace noa::controller::failover
