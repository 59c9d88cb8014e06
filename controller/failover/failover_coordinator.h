#pragma once

// Drives failover, switchover and the members' rejoin for every replicated service (postgres
// and redis): on each tick (every ~50 ms, on its own thread) it reads the members' latest
// reports, compares them with the stored leader record, and acts through agent commands:
//
//   stable   leader serving: members without the lease that report primary are fenced, fenced
//            old primaries and replicas that replicate from elsewhere follow the leader.
//   failover leader down (agent alive: fence it, promote on the fence's success) or silent (its
//            lease runs out, + margin): promote the best candidate (failover_plan.h); a failed
//            promotion moves on to the next candidate once the failed one's lease is surely over.
//   switch-  planned: fence the leader, wait until the candidate reached the leader's final
//   over     position, promote; rolled back (leader unfenced) when the candidate does not catch
//            up in time.
//
// Every step is stored (leader_record.h, sync) before its command goes out, and every decision,
// including each decision not to act, is appended to the decision log. A restarted controller
// resumes a transition from the stored record and the CommandBook's stored results.
//
// Thread-safe: tick() on the failover thread, the operations and views from REST threads.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "common/clock.h"
#include "common/status.h"
#include "controller/commands/command_book.h"
#include "controller/decisions/decision_log.h"
#include "controller/failover/failover_plan.h"
#include "controller/failover/failover_policy.h"
#include "controller/failover/lease_table.h"
#include "controller/failover/leader_record.h"
#include "controller/registry/agent_record.h"
#include "controller/store/store.h"

namespace noa::controller::failover {

// The decision log's kind for every failover decision.
inline constexpr const char* kDecisionKind = "failover";

struct FailoverCoordinatorOptions {
  // A member not heard from for this long is not reachable (it cannot fence or promote).
  int64_t stale_after_ms = 3000;
  // After a follow command ends, the member gets this long to show up before another is sent.
  int64_t follow_retry_ms = 5000;
  int64_t fence_retry_ms = 2000;
};

// The view REST and noactl show.
struct ServiceFailoverView {
  LeaderRecord record;
  std::optional<MemberState> leader;  // the leader's latest state, when it has a member
  std::string leader_health;          // serving | self_fenced | down | silent | ""
  bool lease_valid = false;
  std::vector<MemberState> members;
};

class FailoverCoordinator {
 public:
  using AgentsFn = std::function<std::vector<AgentRecord>()>;  // postgres/redis members only

  FailoverCoordinator(Store& store, commands::CommandBook& commands, LeaseTable& leases,
                      decisions::DecisionLog& decisions, AgentsFn agents, FailoverPolicies policies,
                      const Clock& clock, prometheus::Registry* metrics = nullptr,
                      FailoverCoordinatorOptions options = {});

  // Loads the leader records and names each lease holder (counted from now: a restart is not
  // a lease expiry). The store's error when a record is unreadable.
  Status start();
  void tick();

  // Operator requests. NotFound for an unknown service, FailedPrecondition when the state does
  // not allow it (with the reason), InvalidArgument for a bad candidate.
  Result<ServiceFailoverView> switchover(const std::string& service, const std::string& to,
                                         const std::string& by);
  Result<ServiceFailoverView> forceFailover(const std::string& service, const std::string& to,
                                            const std::string& by);
  Result<ServiceFailoverView> setPaused(const std::string& service, bool paused,
                                        const std::string& reason, const std::string& by);

  std::vector<ServiceFailoverView> views() const;
  Result<ServiceFailoverView> view(const std::string& service) const;

 private:
  struct ServiceRuntime {
    std::optional<uint64_t> leader_position;   // last seen while the leader served
    std::string leader_position_text;
    std::map<std::string, std::string> member_commands;  // member -> outstanding fence/follow command
    std::map<std::string, MonoTime> member_retry_after;
    std::vector<std::string> sync_standbys;       // the leader's, last seen
    std::optional<MonoTime> self_fenced_since;
    std::optional<MonoTime> self_fenced_last;  // the leader was last seen fenced by itself
  };

  void stepService(LeaderRecord& record, const std::vector<MemberState>& members, MonoTime now);
  void stepStable(LeaderRecord& record, const std::vector<MemberState>& members, MonoTime now);
  void stepTransition(LeaderRecord& record, const std::vector<MemberState>& members, MonoTime now);
  void stepFence(LeaderRecord& record, const std::vector<MemberState>& members, MonoTime now);
  void stepCatchup(LeaderRecord& record, const std::vector<MemberState>& members, MonoTime now);
  void stepPromote(LeaderRecord& record, const std::vector<MemberState>& members, MonoTime now);
  void reconcileMembers(LeaderRecord& record, const MemberState& leader,
                        const std::vector<MemberState>& members, MonoTime now);
  void bootstrap(LeaderRecord& record, const std::vector<MemberState>& members, MonoTime now);
  void abortTransition(LeaderRecord& record, const std::string& why, MonoTime now);
  void failCandidate(LeaderRecord& record, const std::string& why, const std::string& command);
  Status startTransition(LeaderRecord& record, TransitionKind kind, const std::string& candidate,
                         const std::string& reason, const std::vector<MemberState>& members,
                         MonoTime now);

  Result<commands::CommandRecord> sendCommand(const std::string& service, const std::string& agent,
                                              const std::string& action, nlohmann::json params,
                                              int64_t timeout_ms, const std::string& origin,
                                              const std::string& reason);
  bool save(LeaderRecord& record);
  void decide(const std::string& service, const std::string& kind, const std::string& action,
              const std::string& reason, nlohmann::json inputs = nlohmann::json::object(),
              nlohmann::json outcome = nlohmann::json::object());
  std::map<std::string, std::vector<MemberState>> membersByService() const;
  ServiceFailoverView viewLocked(const LeaderRecord& record, const std::vector<MemberState>& members) const;
  int64_t nowMs() const { return toUnixMillis(clock_.wallNow()); }
  void updateMetrics(const LeaderRecord& record, bool impossible);

  Store& store_;
  commands::CommandBook& commands_;
  LeaseTable& leases_;
  decisions::DecisionLog& decisions_;
  AgentsFn agents_;
  const FailoverPolicies policies_;
  const Clock& clock_;
  const FailoverCoordinatorOptions options_;
  MonoTime started_{};

  mutable std::mutex mu_;
  std::map<std::string, LeaderRecord> records_;
  std::map<std::string, ServiceRuntime> runtime_;

  prometheus::Family<prometheus::Counter>* failovers_ = nullptr;
  prometheus::Family<prometheus::Gauge>* impossible_ = nullptr;
  prometheus::Family<prometheus::Gauge>* epoch_ = nullptr;
};

}  // namespace noa::controller::failover
