#include "controller/failover/failover_coordinator.h"

#include <algorithm>

#include "common/log.h"
#include "controller/commands/command_target.h"

namespace noa::controller::failover {
namespace {

using nlohmann::json;


const MemberState* findMember(const std::vector<MemberState>& members, const std::string& id) {
  for (const auto& m : members) {
    if (m.agent_id == id) return &m;
  }
  return nullptr;
}

json memberSummary(const MemberState& m) {
  json j = {{"member", m.agent_id}, {"reachable", m.reachable}, {"role", m.role},
            {"live", m.live},       {"position", m.position_text}};
  if (m.process_exited) j["process"] = "exited";
  if (!m.fenced.empty()) j["fenced"] = m.fenced;
  return j;
}

json membersSummary(const std::vector<MemberState>& members) {
  json out = json::array();
  for (const auto& m : members) out.push_back(memberSummary(m));
  return out;
}

std::string originOf(const std::string& service, const std::string& step) {
  return "failover:" + service + "/" + step;
}

}  // namespace

FailoverCoordinator::FailoverCoordinator(Store& store, commands::CommandBook& commands,
                                         LeaseTable& leases, decisions::DecisionLog& decisions,
                                         AgentsFn agents, FailoverPolicies policies,
                                         const Clock& clock, prometheus::Registry* metrics,
                                         FailoverCoordinatorOptions options)
    : store_(store),
      commands_(commands),
      leases_(leases),
      decisions_(decisions),
      agents_(std::move(agents)),
      policies_(std::move(policies)),
      clock_(clock),
      options_(options) {
  if (metrics != nullptr) {
    failovers_ = &prometheus::BuildCounter()
                      .Name("noa_failover_total")
                      .Help("Leadership changes by service and kind (automatic, switchover, forced)")
                      .Register(*metrics);
    impossible_ = &prometheus::BuildGauge()
                       .Name("noa_failover_impossible")
                       .Help("1 while the leader is down and no replica qualifies for promotion")
                       .Register(*metrics);
    epoch_ = &prometheus::BuildGauge()
                  .Name("noa_leader_epoch")
                  .Help("The leader record's epoch per replicated service")
                  .Register(*metrics);
  }
}

Status FailoverCoordinator::start() {
  NOA_ASSIGN_OR_RETURN(auto records, loadLeaderRecords(store_));
  std::lock_guard<std::mutex> lock(mu_);
  started_ = clock_.now();
  for (auto& r : records) {
    const FailoverPolicy& policy = policies_.of(r.service);
    const auto lease = std::chrono::milliseconds(policy.lease_ms);
    // Nothing says when the holder last renewed: count its lease from now.
    if (!r.leader.empty()) {
      const bool granting = !r.transition.has_value() ||
                            (r.transition->phase == Phase::kPromote && r.transition->candidate_armed);
      std::string holder = r.leader;
      if (r.transition && r.transition->phase == Phase::kFence) holder = r.transition->fence_target;
      if (r.transition && r.transition->phase == Phase::kPromote && r.transition->candidate_armed) {
        holder = r.transition->candidate;
      }
      leases_.setHolder(r.service, holder, r.epoch, lease, granting, started_ + lease);
    }
    log::info("leader record loaded",
              {{"service", r.service}, {"leader", r.leader}, {"epoch", r.epoch},
               {"transition", r.transition ? std::string(phaseName(r.transition->phase)) : ""}});
    updateMetrics(r, false);
    records_[r.service] = std::move(r);
  }
  return Status::Ok();
}

std::map<std::string, std::vector<MemberState>> FailoverCoordinator::membersByService() const {
  std::map<std::string, std::vector<MemberState>> out;
  const int64_t now_ms = nowMs();
  for (const AgentRecord& a : agents_()) {
    if (a.hello.kind != "postgres" && a.hello.kind != "redis") continue;
    out[a.hello.service].push_back(memberFromRecord(a, now_ms, options_.stale_after_ms));
  }
  return out;
}

void FailoverCoordinator::tick() {
  auto grouped = membersByService();
  std::lock_guard<std::mutex> lock(mu_);
  const MonoTime now = clock_.now();
  for (auto& [service, members] : grouped) {
    LeaderRecord& record = records_[service];
    record.service = service;
    stepService(record, members, now);
  }
}

void FailoverCoordinator::stepService(LeaderRecord& record, const std::vector<MemberState>& members,
                                      MonoTime now) {
  if (!record.transition) {
    if (record.leader.empty()) {
      bootstrap(record, members, now);
    } else {
      stepStable(record, members, now);
    }
    if (!record.transition) return;
  }
  // A transition may pass several phases in one tick (a silent leader's lease is already over).
  for (int i = 0; i < 3 && record.transition; ++i) {
    const Phase before = record.transition->phase;
    stepTransition(record, members, now);
    if (!record.transition || record.transition->phase == before) break;
  }
}

void FailoverCoordinator::bootstrap(LeaderRecord& record, const std::vector<MemberState>& members,
                                    MonoTime now) {
  // A primary that fenced itself for want of a lease (the controller was not there yet) is
  // still the primary: it unfences once it holds the lease.
  std::vector<const MemberState*> primaries;
  for (const auto& m : members) {
    if (m.reachable && (m.role == "primary" || (m.role.empty() && m.fenced == "no_lease"))) {
      primaries.push_back(&m);
    }
  }
  if (primaries.size() != 1) {
    if (members.empty()) return;
    decide(record.service, "leader", "hold",
           primaries.empty()
               ? "no member reports primary yet; no leader"
               : std::to_string(primaries.size()) +
                     " members report primary and none holds the leader record; choose one with "
                     "noactl failover " + record.service + " --to MEMBER",
           {{"members", membersSummary(members)}});
    return;
  }
  const MemberState& p = *primaries.front();
  const FailoverPolicy& policy = policies_.of(record.service);
  ServiceRuntime& rt = runtime_[record.service];
  rt.leader_position = p.position;
  rt.leader_position_text = p.position_text;
  rt.sync_standbys = p.sync_standbys;
  record.leader = p.agent_id;
  record.epoch += 1;
  record.since_ms = nowMs();
  record.history.push_back({record.epoch, p.agent_id, record.since_ms,
                            "the only member reporting primary", "bootstrap", "", p.position_text});
  if (!save(record)) return;
  leases_.setHolder(record.service, p.agent_id, record.epoch,
                    std::chrono::milliseconds(policy.lease_ms), true, now);
  decide(record.service, "leader", "bootstrap",
         p.agent_id + " leads (the only member reporting primary), epoch " +
             std::to_string(record.epoch),
         {{"members", membersSummary(members)}});
  updateMetrics(record, false);
}

void FailoverCoordinator::stepStable(LeaderRecord& record, const std::vector<MemberState>& members,
                                     MonoTime now) {
  const FailoverPolicy& policy = policies_.of(record.service);
  ServiceRuntime& rt = runtime_[record.service];
  const auto lease = std::chrono::milliseconds(policy.lease_ms);
  if (!leases_.granting(record.service) || leases_.holder(record.service) != record.leader) {
    leases_.setHolder(record.service, record.leader, record.epoch, lease, true, now);
  }
  const LeaderAssessment a = assessLeader(record.leader, members);
  const MemberState* leader = findMember(members, record.leader);
  if (a.health == LeaderHealth::kServing) {
    rt.self_fenced_since.reset();
    rt.leader_position = leader->position;
    rt.leader_position_text = leader->position_text;
    rt.sync_standbys = leader->sync_standbys;
    reconcileMembers(record, *leader, members, now);
    updateMetrics(record, false);
    return;
  }
  if (a.health == LeaderHealth::kDown && leader != nullptr && leader->role == "replica" &&
      nowMs() - record.since_ms < policy.lease_ms) {
    // Its last report may predate its promotion: wait (at most a lease) for one that does not.
    return;
  }
  if (leader != nullptr && leader->reachable && leader->fenced == "controller") {
    // Fenced on an earlier order (an aborted switchover): it leads, so it may write again.
    if (now >= rt.member_retry_after[leader->agent_id]) {
      auto sent = sendCommand(record.service, leader->agent_id, kUnfenceAction, json::object(),
                              policy.fence_timeout_ms, originOf(record.service, "unfence"),
                              "the leader was fenced by an earlier order");
      rt.member_retry_after[leader->agent_id] = now + std::chrono::milliseconds(options_.fence_retry_ms);
      decide(record.service, kDecisionKind, "unfence",
             record.leader + " leads but is fenced by an earlier order: unfencing it",
             {{"leader", memberSummary(*leader)}},
             {{"command", sent.ok() ? sent->id : sent.status().toString()}});
    }
    return;
  }
  if (a.health == LeaderHealth::kDown && rt.self_fenced_last &&
      now - *rt.self_fenced_last < lease + std::chrono::milliseconds(policy.margin_ms)) {
    // It has just unfenced itself (a restarted PostgreSQL answers only after a moment): give
    // its first report as primary a lease's time before calling it down.
    return;
  }
  if (a.health == LeaderHealth::kSelfFenced) {
    rt.self_fenced_last = now;
    if (!rt.self_fenced_since) rt.self_fenced_since = now;
    // The agent unfences on its next grant; one that stays fenced for long is not coming back.
    if (now - *rt.self_fenced_since < 3 * lease) {
      decide(record.service, kDecisionKind, "hold",
             a.reason + ": renewing its lease, no failover (a control-plane blip heals by itself)",
             {{"leader", memberSummary(*leader)}});
      return;
    }
  } else {
    rt.self_fenced_since.reset();
  }
  if (record.paused || !policy.automatic) {
    decide(record.service, kDecisionKind, "hold",
           a.reason + "; " + (record.paused ? "paused (" + record.paused_reason + ")"
                                            : std::string("automatic failover is off")) +
               ": not failing over",
           {{"members", membersSummary(members)}});
    return;
  }
  if (a.health == LeaderHealth::kSilent &&
      !leases_.surelyExpired(record.service, now, std::chrono::milliseconds(policy.margin_ms))) {
    return;  // the lease decides; nothing is known yet
  }
  const std::string why = a.health == LeaderHealth::kSilent
                              ? a.reason + " and its lease is surely over"
                              : a.reason;
  (void)startTransition(record, TransitionKind::kAutomatic, "", why, members, now);
}

Status FailoverCoordinator::startTransition(LeaderRecord& record, TransitionKind kind,
                                            const std::string& candidate, const std::string& reason,
                                            const std::vector<MemberState>& members, MonoTime now) {
  const FailoverPolicy& policy = policies_.of(record.service);
  Transition t;
  t.kind = kind;
  t.phase = Phase::kFence;
  t.from = record.leader;
  t.fence_target = record.leader;
  t.candidate = candidate;
  t.candidate_fixed = !candidate.empty();
  t.reason = reason;
  t.started_ms = t.phase_started_ms = nowMs();
  leases_.stopGranting(record.service);
  const MemberState* old = findMember(members, record.leader);
  if (old != nullptr && old->reachable) {
    auto sent = sendCommand(record.service, old->agent_id, kFenceAction, json::object(),
                            policy.fence_timeout_ms, originOf(record.service, "fence"),
                            std::string(transitionKindName(kind)) + ": " + reason);
    if (sent.ok()) t.fence_command = sent->id;
  }
  record.transition = t;
  if (!save(record)) {
    record.transition.reset();
    leases_.setHolder(record.service, record.leader, record.epoch,
                      std::chrono::milliseconds(policy.lease_ms), true, now);
    return Status::Unavailable("the leader record could not be stored");
  }
  decide(record.service, kDecisionKind, "start",
         std::string(transitionKindName(kind)) + " of " +
             (record.leader.empty() ? std::string("(no leader)") : record.leader) + ": " + reason +
             (t.fence_command.empty() ? "; waiting for its lease to run out"
                                      : "; fencing it (" + t.fence_command + ")"),
         {{"members", membersSummary(members)}, {"policy_lease_ms", policy.lease_ms}},
         {{"fence_command", t.fence_command}, {"candidate", candidate}});
  return Status::Ok();
}

void FailoverCoordinator::stepTransition(LeaderRecord& record,
                                         const std::vector<MemberState>& members, MonoTime now) {
  switch (record.transition->phase) {
    case Phase::kFence: return stepFence(record, members, now);
    case Phase::kCatchup: return stepCatchup(record, members, now);
    case Phase::kPromote: return stepPromote(record, members, now);
  }
}

void FailoverCoordinator::stepFence(LeaderRecord& record, const std::vector<MemberState>& members,
                                    MonoTime now) {
  const FailoverPolicy& policy = policies_.of(record.service);
  ServiceRuntime& rt = runtime_[record.service];
  Transition& t = *record.transition;
  bool fenced = false;
  json fence_output = json::object();
  if (!t.fence_command.empty()) {
    auto c = commands_.get(t.fence_command);
    if (c && c->state == commands::CommandState::kSucceeded) {
      fenced = true;
      fence_output = c->result ? c->result->output : json::object();
    } else if (!c || commands::isTerminal(c->state)) {
      decide(record.service, kDecisionKind, "fence_failed",
             t.fence_target + " did not confirm the fence (" +
                 (c ? std::string(commands::commandStateName(c->state)) : std::string("lost")) +
                 "); waiting for its lease to run out instead");
    }
  } else if (t.fence_target == t.from && !t.from.empty()) {
    // Its agent was silent when the transition started (or the controller restarted): fence it
    // now if it is back, so the promotion need not wait out the lease.
    const MemberState* m = findMember(members, t.from);
    if (m != nullptr && m->reachable && now >= rt.member_retry_after[t.from]) {
      rt.member_retry_after[t.from] = now + std::chrono::milliseconds(options_.fence_retry_ms);
      auto sent = sendCommand(record.service, t.from, kFenceAction, json::object(),
                              policy.fence_timeout_ms, originOf(record.service, "fence"), t.reason);
      if (sent.ok()) {
        t.fence_command = sent->id;
        save(record);
      }
    }
  }
  const bool lease_over =
      leases_.surelyExpired(record.service, now, std::chrono::milliseconds(policy.margin_ms));
  if (!fenced && !lease_over) return;

  const bool failed_candidate = t.fence_target != t.from;
  if (failed_candidate && t.candidate_fixed) {
    abortTransition(record, "promotion of " + t.fence_target + " failed; it is surely not a "
                            "primary now", now);
    return;
  }
  if (t.kind == TransitionKind::kSwitchover) {
    t.fenced_position = fence_output.value("position", std::string());
    if (t.fenced_position.empty()) t.fenced_position = rt.leader_position_text;
    t.phase = Phase::kCatchup;
  } else {
    t.phase = Phase::kPromote;
  }
  t.phase_started_ms = nowMs();
  const std::string target = t.fence_target;
  if (!save(record)) return;
  decide(record.service, kDecisionKind, "fenced",
         fenced ? target + " confirmed the fence" + (t.fenced_position.empty() ? std::string()
                                                      : " at " + t.fenced_position)
                : target + "'s lease is surely over (lease " + std::to_string(policy.lease_ms) +
                      " ms + margin " + std::to_string(policy.margin_ms) + " ms)",
         {{"members", membersSummary(members)}}, {{"fence", fence_output}});
}

void FailoverCoordinator::stepCatchup(LeaderRecord& record, const std::vector<MemberState>& members,
                                      MonoTime now) {
  (void)now;
  const FailoverPolicy& policy = policies_.of(record.service);
  Transition& t = *record.transition;
  const MemberState* c = findMember(members, t.candidate);
  const MemberState* old = findMember(members, t.from);
  const std::string kind = c != nullptr ? c->kind : (old != nullptr ? old->kind : "postgres");
  auto target = parsePosition(kind, t.fenced_position);
  if (c != nullptr && c->healthyReplica() && target && c->position && *c->position >= *target) {
    t.phase = Phase::kPromote;
    t.phase_started_ms = nowMs();
    if (!save(record)) return;
    decide(record.service, kDecisionKind, "caught_up",
           t.candidate + " reached " + c->position_text + " (the fenced leader was at " +
               t.fenced_position + "): promoting it, no acknowledged write is lost",
           {{"candidate", memberSummary(*c)}});
    return;
  }
  if (nowMs() - t.phase_started_ms > policy.switchover_timeout_ms) {
    abortTransition(record,
                    "switchover aborted: " + t.candidate + " did not reach " +
                        (t.fenced_position.empty() ? std::string("the leader's position")
                                                   : t.fenced_position) +
                        " within " + std::to_string(policy.switchover_timeout_ms) + " ms",
                    now);
  }
}

void FailoverCoordinator::stepPromote(LeaderRecord& record, const std::vector<MemberState>& members,
                                      MonoTime now) {
  const FailoverPolicy& policy = policies_.of(record.service);
  ServiceRuntime& rt = runtime_[record.service];
  Transition& t = *record.transition;
  const auto lease = std::chrono::milliseconds(policy.lease_ms);
  if (t.promote_command.empty() && t.candidate_armed) {
    // The candidate was named lease holder; promote once it holds a lease of its own, so that
    // the moment it turns primary it already may (its agent fences a primary without a lease).
    if (leases_.renewals(record.service) == 0) {
      if (nowMs() - t.phase_started_ms > policy.fence_timeout_ms) {
        failCandidate(record, "it never confirmed a lease (no report or ping result)", "");
      }
      return;
    }
    const MemberState* c = findMember(members, t.candidate);
    if (c == nullptr || !c->healthyReplica()) {
      failCandidate(record, "it is no longer a healthy replica", "");
      return;
    }
    json params = json::object();
    if (c->kind == "postgres") params["wait_seconds"] = std::max<int64_t>(1, policy.promote_timeout_ms / 1000);
    auto sent = sendCommand(record.service, t.candidate, promoteAction(c->kind), params,
                            policy.promote_timeout_ms + 2000, originOf(record.service, "promote"),
                            t.reason);
    if (!sent.ok()) {
      failCandidate(record, "cannot send the promotion: " + sent.status().message(), "");
      return;
    }
    t.promote_command = sent->id;
    if (!save(record)) return;
    decide(record.service, kDecisionKind, "promote",
           "promoting " + t.candidate + " (it holds the lease of epoch " +
               std::to_string(record.epoch + 1) + ")",
           {{"candidate", memberSummary(*c)}}, {{"command", sent->id}});
    return;
  }
  if (t.promote_command.empty()) {
    CandidateRules rules;
    rules.check_lag = t.kind == TransitionKind::kAutomatic;
    rules.synchronous_only = t.kind == TransitionKind::kAutomatic && policy.synchronous;
    rules.sync_standbys = rt.sync_standbys;
    rules.leader_position = rt.leader_position;
    rules.excluded.insert(t.tried.begin(), t.tried.end());
    if (!t.from.empty()) rules.excluded.insert(t.from);
    if (t.candidate_fixed) rules.fixed = t.candidate;
    CandidateChoice choice = chooseCandidate(members, policy, rules);
    if (!choice.chosen) {
      if (t.kind != TransitionKind::kAutomatic) {
        abortTransition(record, std::string(transitionKindName(t.kind)) + " aborted: " + choice.reason, now);
        return;
      }
      decide(record.service, kDecisionKind, "hold", "cannot fail over: " + choice.reason,
             {{"considered", choice.considered}, {"leader_was", t.from},
              {"members", membersSummary(members)}, {"sync_standbys", rt.sync_standbys}});
      updateMetrics(record, true);
      return;
    }
    // A fence or follow still queued for it would hold its promotion up (same lane).
    if (auto queued = rt.member_commands.find(*choice.chosen); queued != rt.member_commands.end()) {
      (void)commands_.cancel(queued->second, "controller");
      rt.member_commands.erase(queued);
    }
    // Name it lease holder and ping it: the ping's result brings its first grant.
    leases_.setHolder(record.service, *choice.chosen, record.epoch + 1, lease, true, now);
    auto ping = sendCommand(record.service, *choice.chosen, "ping", json::object(),
                            policy.fence_timeout_ms, originOf(record.service, "arm"), choice.reason);
    t.candidate = *choice.chosen;
    t.candidate_armed = true;
    t.phase_started_ms = nowMs();
    if (!save(record)) return;
    decide(record.service, kDecisionKind, "candidate", "chose " + choice.reason,
           {{"considered", choice.considered}, {"transition", std::string(transitionKindName(t.kind))}},
           {{"ping", ping.ok() ? ping->id : ping.status().toString()}, {"epoch", record.epoch + 1}});
    return;
  }
  auto c = commands_.get(t.promote_command);
  if (c && !commands::isTerminal(c->state)) return;
  if (c && c->state == commands::CommandState::kSucceeded) {
    const json output = c->result ? c->result->output : json::object();
    std::string position = output.value("lsn", std::string());
    if (position.empty() && output.contains("master_repl_offset")) {
      position = output["master_repl_offset"].is_string()
                     ? output["master_repl_offset"].get<std::string>()
                     : output["master_repl_offset"].dump();
    }
    const std::string previous = record.leader;
    const std::string kind_name(transitionKindName(t.kind));
    const std::string reason = t.reason;
    const std::string promoted = t.candidate;
    const int64_t took_ms = nowMs() - t.started_ms;
    record.leader = promoted;
    record.epoch += 1;
    record.since_ms = nowMs();
    record.history.push_back({record.epoch, promoted, record.since_ms, reason, kind_name, previous, position});
    record.transition.reset();
    // Counted from the agent's confirmation, which it sent after receiving the command.
    leases_.setHolder(record.service, promoted, record.epoch, lease, true, now);
    if (!save(record)) return;
    rt = ServiceRuntime{};
    decide(record.service, kDecisionKind, "promoted",
           promoted + " is primary in epoch " + std::to_string(record.epoch) + " (" + kind_name +
               ", " + std::to_string(took_ms) + " ms after it started: " + reason + ")",
           {{"members", membersSummary(members)}},
           {{"command", c->id}, {"output", output}, {"previous", previous}});
    if (failovers_ != nullptr) failovers_->Add({{"service", record.service}, {"kind", kind_name}}).Increment();
    updateMetrics(record, false);
    log::warn("new primary", {{"service", record.service}, {"leader", promoted},
                              {"epoch", record.epoch}, {"previous", previous}, {"ms", took_ms}});
    return;
  }
  // Failed, timed out, cancelled or lost: it may still become primary late.
  failCandidate(record,
                c ? std::string(commands::commandStateName(c->state)) +
                        (c->result && !c->result->error.empty() ? ": " + c->result->error : "")
                  : std::string("command lost"),
                c ? c->id : std::string());
}

void FailoverCoordinator::failCandidate(LeaderRecord& record, const std::string& why,
                                        const std::string& command) {
  // Treated like a leader to be fenced: its lease (never renewed from now on) must surely be
  // over before anyone else is promoted.
  Transition& t = *record.transition;
  const std::string failed = t.candidate;
  t.tried.push_back(failed);
  leases_.stopGranting(record.service);
  t.phase = Phase::kFence;
  t.fence_target = failed;
  t.fence_command.clear();
  t.promote_command.clear();
  t.candidate_armed = false;
  if (!t.candidate_fixed) t.candidate.clear();
  t.phase_started_ms = nowMs();
  if (!save(record)) return;
  decide(record.service, kDecisionKind, "promote_failed",
         "promotion of " + failed + " failed (" + why + "); waiting for its lease to run out before " +
             (t.candidate_fixed ? std::string("giving up") : std::string("the next candidate")),
         {{"command", command}});
}

void FailoverCoordinator::abortTransition(LeaderRecord& record, const std::string& why, MonoTime now) {
  const FailoverPolicy& policy = policies_.of(record.service);
  const std::string from = record.transition ? record.transition->from : std::string();
  const std::string kind(record.transition ? transitionKindName(record.transition->kind) : "");
  record.transition.reset();
  if (!save(record)) return;
  if (!from.empty()) {
    leases_.setHolder(record.service, from, record.epoch, std::chrono::milliseconds(policy.lease_ms),
                      true, now);
  }
  decide(record.service, kDecisionKind, "abort",
         why + (from.empty() ? std::string() : "; " + from + " stays leader"), {{"transition", kind}});
  // A fenced old leader is unfenced by stepStable (fenced == "controller").
}

void FailoverCoordinator::reconcileMembers(LeaderRecord& record, const MemberState& leader,
                                           const std::vector<MemberState>& members, MonoTime now) {
  const FailoverPolicy& policy = policies_.of(record.service);
  ServiceRuntime& rt = runtime_[record.service];
  // Finished member commands: the member gets a while to show the effect.
  for (auto it = rt.member_commands.begin(); it != rt.member_commands.end();) {
    auto c = commands_.get(it->second);
    if (!c || commands::isTerminal(c->state)) {
      rt.member_retry_after[it->first] = now + std::chrono::milliseconds(options_.follow_retry_ms);
      it = rt.member_commands.erase(it);
    } else {
      ++it;
    }
  }
  for (const MemberPlan& plan : planMembers(leader, members)) {
    if (rt.member_commands.count(plan.agent_id)) continue;
    if (now < rt.member_retry_after[plan.agent_id]) continue;
    const MemberState* m = findMember(members, plan.agent_id);
    json params = json::object();
    std::string action = kFenceAction;
    int64_t timeout_ms = policy.fence_timeout_ms;
    if (plan.fix == MemberFix::kFollow) {
      action = followAction(m->kind);
      params = {{"primary_host", leader.endpoint_host}, {"primary_port", leader.endpoint_port}};
      if (m->kind == "postgres") params["application_name"] = m->agent_id;
      timeout_ms = 120000;  // pg_rewind and a restart may take a while
    }
    auto sent = sendCommand(record.service, plan.agent_id, action, params, timeout_ms,
                            originOf(record.service, action == kFenceAction ? "fence" : "follow"),
                            plan.reason);
    rt.member_retry_after[plan.agent_id] = now + std::chrono::milliseconds(options_.fence_retry_ms);
    if (sent.ok()) rt.member_commands[plan.agent_id] = sent->id;
    decide(record.service, kDecisionKind, plan.fix == MemberFix::kFence ? "fence" : "follow",
           plan.reason, {{"member", memberSummary(*m)}, {"leader", memberSummary(leader)}},
           {{"command", sent.ok() ? sent->id : sent.status().toString()}});
  }
}

Result<commands::CommandRecord> FailoverCoordinator::sendCommand(
    const std::string& service, const std::string& agent, const std::string& action, json params,
    int64_t timeout_ms, const std::string& origin, const std::string& reason) {
  (void)service;
  NOA_ASSIGN_OR_RETURN(commands::ResolvedTarget target,
                       commands::resolveTarget(agents_(), commands::TargetSpec{agent, "", ""}, action));
  commands::NewCommand request;
  request.target = std::move(target);
  request.action = action;
  request.params = std::move(params);
  request.deadline_ms = nowMs() + timeout_ms;
  request.created_by = "controller";
  request.origin = origin;
  request.reason = reason;
  auto created = commands_.create(request);
  if (!created.ok()) {
    log::warn("failover command not created", {{"agent", agent}, {"action", action},
                                                {"error", created.status().toString()}});
  }
  return created;
}

bool FailoverCoordinator::save(LeaderRecord& record) {
  Status saved = saveLeaderRecord(store_, record);
  if (!saved.ok()) {
    log::error("leader record not stored; nothing acts on it",
               {{"service", record.service}, {"error", saved.toString()}});
    return false;
  }
  if (record.history.size() > kMaxHistory) {
    record.history.erase(record.history.begin(),
                         record.history.end() - static_cast<std::ptrdiff_t>(kMaxHistory));
  }
  return true;
}

void FailoverCoordinator::decide(const std::string& service, const std::string& kind,
                                 const std::string& action, const std::string& reason, json inputs,
                                 json outcome) {
  decisions::DecisionRecord d;
  d.service = service;
  d.kind = kind;
  d.action = action;
  d.reason = reason;
  d.inputs = std::move(inputs);
  d.outcome = std::move(outcome);
  auto appended = decisions_.append(std::move(d));
  if (!appended.ok()) {
    log::warn("decision not recorded", {{"service", service}, {"error", appended.status().toString()}});
  } else if (!appended->repeated) {
    log::info("decision", {{"service", service}, {"kind", kind}, {"action", action}, {"reason", reason}});
  }
}

void FailoverCoordinator::updateMetrics(const LeaderRecord& record, bool impossible) {
  if (impossible_ != nullptr) impossible_->Add({{"service", record.service}}).Set(impossible ? 1 : 0);
  if (epoch_ != nullptr) epoch_->Add({{"service", record.service}}).Set(static_cast<double>(record.epoch));
}

}  // namespace noa::controller::failover
