#pragma once

// The pure parts of failover: is the leader serving, which replica to promote (and why not the
// others), which members must follow the leader or be fenced. Functions of (members, record,
// policy); the coordinator adds time, commands and the store. Each answer carries the reason
// that goes into the decision record.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controller/failover/failover_policy.h"
#include "controller/failover/leader_record.h"
#include "controller/failover/member_state.h"

namespace noa::controller::failover {

enum class LeaderHealth {
  kServing,     // reports primary, live, not fenced
  kSelfFenced,  // reachable, fenced itself for want of a lease (a control-plane blip): re-grant
  kDown,        // its agent is reachable and says the service is not serving as primary
  kSilent,      // its agent is not heard from: only the lease can tell
};
std::string_view leaderHealthName(LeaderHealth health);

struct LeaderAssessment {
  LeaderHealth health = LeaderHealth::kSilent;
  std::string reason;  // e.g. "pg-1: postmaster exited", "pg-1: agent silent"
};

LeaderAssessment assessLeader(const std::string& leader, const std::vector<MemberState>& members);

struct CandidateChoice {
  std::optional<std::string> chosen;
  std::string reason;                  // why chosen, or why nobody
  nlohmann::json considered = nlohmann::json::array();  // [{member, position, lag, eligible, why}]
};

struct CandidateRules {
  bool check_lag = true;                // automatic failover; forced failover skips it
  bool synchronous_only = false;        // policy.synchronous during an automatic failover
  std::vector<std::string> sync_standbys;  // the last ones the leader reported
  std::optional<uint64_t> leader_position;  // last known; the lag reference
  std::set<std::string> excluded;       // the old leader, candidates that already failed
  std::optional<std::string> fixed;     // switchover --to / failover --to
};

// Healthy replicas not excluded and not nofailover (and within maximum_lag, and synchronous when
// required); the most advanced position first, then the higher priority, then the name.
CandidateChoice chooseCandidate(const std::vector<MemberState>& members, const FailoverPolicy& policy,
                                const CandidateRules& rules);

enum class MemberFix { kNone, kFence, kFollow };
struct MemberPlan {
  std::string agent_id;
  MemberFix fix = MemberFix::kNone;
  std::string reason;
};

// What every member other than the serving leader needs: a second primary is fenced; a fenced
// or stopped old primary, and a replica that does not replicate from the leader, follow it.
std::vector<MemberPlan> planMembers(const MemberState& leader, const std::vector<MemberState>& members);

// Action names per service kind.
std::string promoteAction(const std::string& kind);  // pg.promote | redis.promote
std::string followAction(const std::string& kind);   // pg.follow | redis.follow
inline constexpr const char* kFenceAction = "fence";
inline constexpr const char* kUnfenceAction = "unfence";

}  // namespace noa::controller::failover
