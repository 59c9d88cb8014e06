#pragma once

// Runs the autoscaler: on every reconcile tick, for each service with an autoscale policy,
// builds the observed state from the registry (agents = replicas) and the actuator, runs
// decideScale(), records the decision, and calls the actuator unless the service is in dry-run,
// paused or under a manual override (which the coordinator actuates instead). Reacting every
// tick (not every 15 s as the HPA does) puts a crossing in agent reports about one report
// interval away from the actuator call.
//
// Decision records: every actuated rescale and every failure; a repeated hold/limited/dry-run
// evaluation only when what it says changes (action, desired count, conditions, limiting rule)
// or once per `repeat_ms`, so a 1 s tick does not write a record a second.
//
// Actuator failures become an "error" record with the actuator's message, AbleToScale=False
// FailedUpdateScale, and a retry after a back-off that doubles from `retry_initial_ms` up to
// `retry_max_ms`.
//
// Stored in the `desired` family (schemas/store.md, "autoscale"), synced:
//   autoscale/<service>/override  {"replicas", "until_ms", "by", "at_ms"}   noactl scale
//   autoscale/<service>/paused    {"by", "at_ms"}                           autoscale pause
//   autoscale/<service>/replicas  {"replicas", "at_ms"}  the last count set through an actuator
//                                 that cannot report one (none, exec)
//
// Thread-safe: tick() runs on the reconcile thread; the REST calls may come from any thread.
// Actuator calls are made from tick() only and without the lock held.

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "controller/autoscale/actuators/actuator.h"
#include "controller/autoscale/autoscale_decision.h"
#include "controller/autoscale/autoscale_metrics.h"
#include "controller/autoscale/autoscale_policy.h"
#include "controller/decisions/decision_record.h"
#include "controller/registry/agent_record.h"
#include "controller/store/store.h"

namespace noa::controller::autoscale {

struct AutoscaleCoordinatorOptions {
  int64_t retry_initial_ms = 1000;
  int64_t retry_max_ms = 60'000;
  int64_t repeat_ms = 60'000;
  int64_t default_override_ttl_ms = 3'600'000;
  int64_t max_override_ttl_ms = 7 * 86'400'000LL;
  size_t recent_records = 20;  // kept in memory per service for GET .../autoscale
};

struct ScaleOverride {
  int32_t replicas = 0;
  int64_t until_ms = 0;  // wall clock
  std::string by;
  int64_t at_ms = 0;
};

class AutoscaleCoordinator {
 public:
  // The records of the agents of these services (the ones with an enabled policy): a tick
  // copies those, not the whole fleet; a controller without autoscaling copies nothing. The
  // coordinator ignores records of other services, so returning more is only slower.
  using AgentsSnapshot = std::function<std::vector<AgentRecord>(const std::set<std::string>&)>;
  // Appends a decision record (DecisionLog::append in production).
  using DecisionSink = std::function<Status(decisions::DecisionRecord)>;
  // Builds a service's actuator (makeActuator in production; tests inject fakes).
  using ActuatorFactory = std::function<Result<ActuatorPtr>(const ActuatorConfig&)>;

  AutoscaleCoordinator(AutoscalePolicies policies, AgentsSnapshot agents, Store& store,
                       DecisionSink sink, const Clock& clock, AutoscaleMetrics* metrics = nullptr,
                       ActuatorFactory factory = makeActuator,
                       AutoscaleCoordinatorOptions options = {});

  // Builds the actuators and loads overrides and pauses from the store. An actuator that cannot
  // be built (kubernetes outside a cluster, say) is logged and stands in as one that fails every
  // call, so each evaluation records the error with AbleToScale=False; the store's error is
  // returned.
  Status start();

  // One evaluation of every service. `now` is the monotonic time of the tick.
  void tick(MonoTime now);
  void tick() { tick(clock_.now()); }

  // Operator actions (REST / noactl). NotFound for a service without an autoscale policy.
  // `ttl_ms` 0 takes the default (1 h); replicas must be 0..max_replicas.
  Result<ScaleOverride> setOverride(const std::string& service, int32_t replicas, int64_t ttl_ms,
                                    const std::string& by);
  Status clearOverride(const std::string& service);
  Status pause(const std::string& service, const std::string& by);
  Status resume(const std::string& service);

  // The state GET /v1/services/{name}/autoscale serves (schemas/openapi.yaml, AutoscaleState).
  Result<nlohmann::json> describe(const std::string& service) const;
  std::vector<std::string> services() const;

 private:
  struct ReadyTrack {
    bool ready = false;
    int64_t since_ms = 0;  // wall
  };
  struct ServiceState {
    AutoscalePolicy policy;
    ActuatorPtr actuator;
    AutoscaleHistory history;
    std::optional<AutoscaleDecision> last;
    std::string last_mode;
    std::deque<decisions::DecisionRecord> recent;
    std::optional<ScaleOverride> override_;
    std::optional<std::pair<std::string, int64_t>> paused;  // by, at_ms
    std::optional<int32_t> last_set;
    int failures = 0;
    int64_t next_attempt_mono_ms = 0;
    std::string last_error;
    std::string last_signature;
    int64_t last_record_mono_ms = 0;
    std::map<std::string, ReadyTrack> ready;
  };

  // The tick's agents grouped by service (one pass over the registry per tick, not one per
  // autoscaled service).
  using ByService = std::map<std::string, std::vector<const AgentRecord*>, std::less<>>;

  ObservedState observe(ServiceState& s, const ByService& agents, int64_t now_mono,
                        int64_t now_wall);
  void evaluate(ServiceState& s, const ByService& agents, int64_t now_mono, int64_t now_wall);
  std::optional<decisions::DecisionRecord> record(ServiceState& s, const ObservedState& state,
                                                  const AutoscaleDecision& d,
                                                  const std::string& mode, bool always,
                                                  int64_t now_mono);
  Status persist(const std::string& key, const std::optional<nlohmann::json>& value);
  ServiceState* find(const std::string& service);
  const ServiceState* find(const std::string& service) const;

  AgentsSnapshot agents_;
  Store& store_;
  DecisionSink sink_;
  const Clock& clock_;
  AutoscaleMetrics* metrics_;
  ActuatorFactory factory_;
  const AutoscaleCoordinatorOptions options_;

  // Holds the per-service state; tick() is the only caller of the actuators and of evaluate(),
  // and runs on one thread, so evaluate() may release the lock around actuator calls.
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<ServiceState>> services_;  // GUARDED_BY(mu_)
};

}  // namespace noa::controller::autoscale
