#include "controller/failover/failover_plan.h"

#include <algorithm>

namespace noa::controller::failover {
namespace {

using nlohmann::json;

const MemberState* find(const std::vector<MemberState>& members, const std::string& id) {
  for (const auto& m : members) {
    if (m.agent_id == id) return &m;
  }
  return nullptr;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string why_not_serving(const MemberState& m) {
  if (m.process_exited) return "service process exited";
  if (!m.fenced.empty()) return "fenced (" + m.fenced + ")";
  if (m.role.empty()) return "service not answering";
  if (m.role != "primary") return "reports role " + m.role;
  if (!m.live) return "liveness probe failing";
  return "not serving";
}

}  // namespace

std::string_view leaderHealthName(LeaderHealth health) {
  switch (health) {
    case LeaderHealth::kServing: return "serving";
    case LeaderHealth::kSelfFenced: return "self_fenced";
    case LeaderHealth::kDown: return "down";
    case LeaderHealth::kSilent: return "silent";
  }
  return "silent";
}

LeaderAssessment assessLeader(const std::string& leader, const std::vector<MemberState>& members) {
  const MemberState* m = find(members, leader);
  if (m == nullptr) return {LeaderHealth::kSilent, leader + ": agent not known"};
  if (!m->reachable) return {LeaderHealth::kSilent, leader + ": agent silent"};
  if (m->servingPrimary()) return {LeaderHealth::kServing, leader + ": serving"};
  if (m->fenced == "no_lease" || (m->fenced.empty() && m->fence_applied)) {
    return {LeaderHealth::kSelfFenced, leader + ": fenced itself for want of a lease"};
  }
  return {LeaderHealth::kDown, leader + ": " + why_not_serving(*m)};
}

CandidateChoice chooseCandidate(const std::vector<MemberState>& members, const FailoverPolicy& policy,
                                const CandidateRules& rules) {
  CandidateChoice out;
  std::optional<uint64_t> reference = rules.leader_position;
  for (const auto& m : members) {
    if (m.healthyReplica() && !rules.excluded.count(m.agent_id)) {
      reference = std::max(reference.value_or(0), *m.position);
    }
  }
  std::vector<const MemberState*> eligible;
  for (const auto& m : members) {
    if (rules.fixed && m.agent_id != *rules.fixed) continue;
    json c = {{"member", m.agent_id}, {"role", m.role}, {"position", m.position_text}};
    std::string why;
    int64_t lag = -1;
    if (m.position && reference) lag = static_cast<int64_t>(*reference - std::min(*reference, *m.position));
    c["lag_bytes"] = lag;
    if (rules.excluded.count(m.agent_id)) {
      why = "excluded (old leader or failed promotion)";
    } else if (!m.reachable) {
      why = "agent not reachable";
    } else if (!m.healthyReplica()) {
      why = m.role == "replica" ? "not healthy" : "not a replica (" + (m.role.empty() ? std::string("down") : m.role) + ")";
    } else if (policy.nofailover.count(m.agent_id)) {
      why = "nofailover";
    } else if (rules.check_lag && lag > policy.maximum_lag_bytes) {
      why = "lag " + std::to_string(lag) + " bytes > maximum_lag " +
            std::to_string(policy.maximum_lag_bytes);
    } else if (rules.synchronous_only && !contains(rules.sync_standbys, m.agent_id)) {
      why = "not a synchronous standby";
    }
    c["eligible"] = why.empty();
    if (!why.empty()) c["why"] = why;
    out.considered.push_back(c);
    if (why.empty()) eligible.push_back(&m);
  }
  if (rules.fixed && out.considered.empty()) {
    out.reason = "member " + *rules.fixed + " is not known";
    return out;
  }
  if (eligible.empty()) {
    std::string reasons;
    for (const auto& c : out.considered) {
      if (!c["eligible"].get<bool>()) {
        reasons += (reasons.empty() ? "" : "; ") + c["member"].get<std::string>() + " " +
                   c["why"].get<std::string>();
      }
    }
    out.reason = "no candidate" + (reasons.empty() ? std::string(": no replicas") : ": " + reasons);
    return out;
  }
  std::sort(eligible.begin(), eligible.end(), [&](const MemberState* a, const MemberState* b) {
    if (*a->position != *b->position) return *a->position > *b->position;
    const int64_t pa = policy.priorityOf(a->agent_id), pb = policy.priorityOf(b->agent_id);
    if (pa != pb) return pa > pb;
    return a->agent_id < b->agent_id;
  });
  out.chosen = eligible.front()->agent_id;
  out.reason = *out.chosen + " at " + eligible.front()->position_text +
               (eligible.size() > 1 ? " (most advanced of " + std::to_string(eligible.size()) + ")"
                                    : " (the only eligible replica)");
  return out;
}

std::vector<MemberPlan> planMembers(const MemberState& leader, const std::vector<MemberState>& members) {
  std::vector<MemberPlan> out;
  for (const auto& m : members) {
    if (m.agent_id == leader.agent_id || !m.reachable) continue;
    MemberPlan plan{m.agent_id, MemberFix::kNone, ""};
    if (m.role == "primary" && m.fenced.empty()) {
      plan = {m.agent_id, MemberFix::kFence, m.agent_id + " reports primary without the lease (leader is " + leader.agent_id + ")"};
    } else if (m.role == "primary" || (m.role.empty() && !m.fenced.empty())) {
      plan = {m.agent_id, MemberFix::kFollow, m.agent_id + " is a fenced former primary: rejoin as a replica of " + leader.agent_id};
    } else if (m.role == "replica") {
      bool follows = true;
      if (m.kind == "postgres") {
        follows = contains(leader.replica_names, m.agent_id);
      } else {
        follows = m.upstream_port == leader.endpoint_port && m.upstream_host == leader.endpoint_host;
      }
      if (!follows && leader.endpoint_port != 0) {
        plan = {m.agent_id, MemberFix::kFollow, m.agent_id + " does not replicate from " + leader.agent_id};
      }
    }
    if (plan.fix != MemberFix::kNone) out.push_back(std::move(plan));
  }
  return out;
}

std::string promoteAction(const std::string& kind) {
  return kind == "redis" ? "redis.promote" : "pg.promote";
}
std::string followAction(const std::string& kind) {
  return kind == "redis" ? "redis.follow" : "pg.follow";
}

}  // namespace noa::controller::failover
