#include "controller/autoscale/autoscale_coordinator.h"

#include <algorithm>
#include <cmath>

#include "common/log.h"
#include "controller/autoscale/autoscale_record.h"

namespace noa::controller::autoscale {
namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "autoscale/";

std::string key(const std::string& service, const char* what) {
  return std::string(kPrefix) + service + "/" + what;
}

int64_t monoMs(MonoTime t) {
  return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
}

json overrideJson(const ScaleOverride& o) {
  return {{"replicas", o.replicas}, {"until_ms", o.until_ms}, {"by", o.by}, {"at_ms", o.at_ms}};
}

json rulesJson(const ScalingRules& r) {
  json policies = json::array();
  for (const ScalingPolicy& p : r.policies) {
    policies.push_back({{"type", p.type == ScalingPolicyType::kPods ? "Pods" : "Percent"},
                        {"value", p.value},
                        {"periodSeconds", p.period_s}});
  }
  return {{"stabilizationWindowSeconds", r.stabilization_window_s},
          {"selectPolicy", selectPolicyName(r.select)},
          {"policies", policies},
          {"tolerance", r.tolerance}};
}

json policyJson(const AutoscalePolicy& p) {
  json metrics = json::array();
  for (const MetricSpec& m : p.metrics) {
    json j = {{"metric", m.label()},
              {"target_type", metricTargetTypeName(m.target_type)},
              {"target", m.target}};
    if (!m.from_service.empty()) j["from_service"] = m.from_service;
    metrics.push_back(std::move(j));
  }
  json behavior = nullptr;
  if (p.behavior) {
    behavior = {{"scaleUp", rulesJson(p.behavior->scale_up)},
                {"scaleDown", rulesJson(p.behavior->scale_down)}};
  }
  return {{"min_replicas", p.min_replicas},
          {"max_replicas", p.max_replicas},
          {"metrics", metrics},
          {"tolerance", p.tolerance},
          {"behavior", behavior},
          {"actuator", actuatorTypeName(p.actuator.type)},
          {"dry_run", p.dry_run}};
}

std::string signatureOf(const AutoscaleDecision& d, const std::string& mode, int32_t target) {
  return mode + "|" + d.action + "|" + std::to_string(target) + "|" + d.able_to_scale.reason + "|" +
         d.scaling_active.reason + "|" + d.scaling_limited.reason + "|" + d.limiting_rule;
}

}  // namespace

AutoscaleCoordinator::AutoscaleCoordinator(AutoscalePolicies policies, AgentsSnapshot agents,
                                           Store& store, DecisionSink sink, const Clock& clock,
                                           AutoscaleMetrics* metrics, ActuatorFactory factory,
                                           AutoscaleCoordinatorOptions options)
    : agents_(std::move(agents)),
      store_(store),
      sink_(std::move(sink)),
      clock_(clock),
      metrics_(metrics),
      factory_(std::move(factory)),
      options_(options) {
  for (AutoscalePolicy& p : policies.services) {
    auto state = std::make_unique<ServiceState>();
    state->policy = std::move(p);
    services_[state->policy.service] = std::move(state);
  }
}

namespace {

// Stands in for an actuator whose config could not be built (e.g. kubernetes outside a cluster
// without a kubeconfig): every call fails with why.
class UnavailableActuator final : public Actuator {
 public:
  UnavailableActuator(ActuatorType type, Status why) : type_(type), why_(std::move(why)) {}
  ActuatorType type() const override { return type_; }
  Result<int32_t> currentReplicas(const std::string&) override { return why_; }
  Status setReplicas(const std::string&, int32_t) override { return why_; }

 private:
  ActuatorType type_;
  Status why_;
};

}  // namespace

Status AutoscaleCoordinator::start() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, s] : services_) {
    auto actuator = factory_(s->policy.actuator);
    if (!actuator.ok()) {
      // Not a reason to refuse to start (the controller also does failover and backups): every
      // evaluation records the error and AbleToScale=False until the config is fixed.
      log::error("autoscale actuator unavailable",
                 {{"service", name}, {"error", actuator.status().toString()}});
      s->actuator = std::make_unique<UnavailableActuator>(
          s->policy.actuator.type, actuator.status().withContext("actuator"));
      continue;
    }
    s->actuator = std::move(actuator).value();
  }
  NOA_ASSIGN_OR_RETURN(auto stored, store_.scan(Family::kDesired, kPrefix, 100'000));
  for (const auto& [k, v] : stored) {
    const std::string rest = k.substr(kPrefix.size());
    const size_t slash = rest.rfind('/');
    if (slash == std::string::npos) continue;
    ServiceState* s = find(rest.substr(0, slash));
    if (s == nullptr) continue;  // a policy removed since: its entries wait, harmless
    const std::string what = rest.substr(slash + 1);
    const json j = json::parse(v, nullptr, false);
    if (!j.is_object()) return Status::Corruption("desired '" + k + "': not a JSON object");
    if (what == "override") {
      s->override_ = ScaleOverride{j.value("replicas", 0), j.value("until_ms", int64_t{0}),
                                   j.value("by", std::string()), j.value("at_ms", int64_t{0})};
    } else if (what == "paused") {
      s->paused = std::make_pair(j.value("by", std::string()), j.value("at_ms", int64_t{0}));
    } else if (what == "replicas") {
      s->last_set = j.value("replicas", 0);
    }
  }
  return Status::Ok();
}

AutoscaleCoordinator::ServiceState* AutoscaleCoordinator::find(const std::string& service) {
  auto it = services_.find(service);
  return it == services_.end() ? nullptr : it->second.get();
}

const AutoscaleCoordinator::ServiceState* AutoscaleCoordinator::find(
    const std::string& service) const {
  auto it = services_.find(service);
  return it == services_.end() ? nullptr : it->second.get();
}

Status AutoscaleCoordinator::persist(const std::string& k, const std::optional<json>& value) {
  Store::Batch batch;
  if (value) {
    batch.put(Family::kDesired, k, value->dump());
  } else {
    batch.erase(Family::kDesired, k);
  }
  return store_.commit(batch, /*sync=*/true);
}

ObservedState AutoscaleCoordinator::observe(ServiceState& s, const ByService& by_service,
                                            int64_t now_mono, int64_t now_wall) {
  static const std::vector<const AgentRecord*> kNone;
  auto membersOf = [&](const std::string& service) -> const std::vector<const AgentRecord*>& {
    auto it = by_service.find(service);
    return it == by_service.end() ? kNone : it->second;
  };
  // Agent times are wall clock; the decision's windows run on the monotonic clock.
  auto toMono = [&](int64_t wall) { return now_mono - (now_wall - wall); };
  ObservedState state;
  std::map<std::string, ReadyTrack> seen;
  for (const AgentRecord* agent : membersOf(s.policy.service)) {
    const AgentRecord& a = *agent;
    ReplicaSample r;
    r.id = a.hello.agent_id;
    const bool lost = a.liveness == Liveness::kLost;
    const protocol::Report& report = a.last_report;
    if (lost) {
      r.phase = ReplicaPhase::kFailed;
    } else if (!a.has_report || report.health.state == "starting") {
      r.phase = ReplicaPhase::kPending;
    }
    r.has_ready_condition = a.has_report;
    r.ready = a.has_report && report.health.ready && !lost;
    r.started_ms = toMono(a.session_started_ms);
    auto previous = s.ready.find(r.id);
    ReadyTrack track =
        previous == s.ready.end() ? ReadyTrack{r.ready, a.session_started_ms} : previous->second;
    if (track.ready != r.ready) track = {r.ready, now_wall};
    seen[r.id] = track;
    r.ready_transition_ms = toMono(track.since_ms);
    r.sample_ms = toMono(a.last_seen_ms);
    r.window_ms = a.hello.report_interval_ms;
    // A suspect agent's last numbers are stale: it counts as a replica without metrics.
    r.has_metrics = a.has_report && a.liveness == Liveness::kAlive;
    for (const protocol::Metric& m : report.metrics) {
      if (std::isfinite(m.value)) r.metrics[m.name] = m.value;
    }
    state.replicas.push_back(std::move(r));
  }
  s.ready = std::move(seen);
  for (const MetricSpec& m : s.policy.metrics) {
    if (m.type != MetricSourceType::kExternal) continue;
    const std::string& from = m.from_service.empty() ? s.policy.service : m.from_service;
    std::optional<double> sum;
    for (const AgentRecord* a : membersOf(from)) {
      if (a->liveness == Liveness::kLost || !a->has_report) continue;
      for (const protocol::Metric& metric : a->last_report.metrics) {
        if (metric.name == m.name && std::isfinite(metric.value))
          sum = sum.value_or(0) + metric.value;
      }
    }
    if (sum) state.external[m.label()] = *sum;
  }
  return state;
}

void AutoscaleCoordinator::tick(MonoTime now) {
  std::vector<ServiceState*> due;
  std::set<std::string> names;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, s] : services_) {
      if (!s->policy.enabled || !s->actuator) continue;
      due.push_back(s.get());
      names.insert(name);
    }
  }
  if (due.empty()) return;
  const std::vector<AgentRecord> agents = agents_(names);
  ByService by_service;
  for (const AgentRecord& a : agents) by_service[a.hello.service].push_back(&a);
  const int64_t now_mono = monoMs(now);
  const int64_t now_wall = toUnixMillis(clock_.wallNow());
  for (ServiceState* s : due) evaluate(*s, by_service, now_mono, now_wall);
}

void AutoscaleCoordinator::evaluate(ServiceState& s, const ByService& agents, int64_t now_mono,
                                    int64_t now_wall) {
  const std::string& name = s.policy.service;
  Result<int32_t> reported = s.actuator->currentReplicas(name);  // may block: no lock held
  std::unique_lock<std::mutex> lock(mu_);
  ObservedState state = observe(s, agents, now_mono, now_wall);
  if (reported.ok()) {
    state.current_replicas = *reported;
  } else if (reported.status().code() == StatusCode::kUnimplemented) {
    if (s.last_set) {
      state.current_replicas = *s.last_set;
    } else {
      state.current_replicas = static_cast<int32_t>(
          std::count_if(state.replicas.begin(), state.replicas.end(),
                        [](const ReplicaSample& r) { return r.phase != ReplicaPhase::kFailed; }));
    }
  } else {
    state.scale_error = reported.status().message();
  }
  if (s.override_ && s.override_->until_ms <= now_wall) {
    log::info("autoscale override expired",
              {{"service", name}, {"replicas", s.override_->replicas}});
    if (Status st = persist(key(name, "override"), std::nullopt); !st.ok()) {
      log::warn("autoscale override not removed from store",
                {{"service", name}, {"error", st.toString()}});
    }
    s.override_.reset();
  }
  AutoscaleDecision d = decideScale(state, s.policy, s.history, now_mono);
  s.history = d.history;

  std::string mode = "auto";
  int32_t target = d.desired;
  if (s.override_) {
    mode = "override";
    target = s.override_->replicas;
  } else if (s.paused) {
    mode = "paused";
    target = d.current;
  } else if (s.policy.dry_run) {
    mode = "dry_run";
  }
  // An override is applied even while metrics fail; the autoscaler's own choice is not.
  const bool wants_change = state.current_replicas && target != d.current && mode != "paused" &&
                            mode != "dry_run" && (mode == "override" || d.action != "error");
  const bool backing_off = wants_change && s.failures > 0 && now_mono < s.next_attempt_mono_ms;
  const bool actuate = wants_change && !backing_off;
  const ScaleOverride override_copy = s.override_.value_or(ScaleOverride{});
  lock.unlock();

  Status result = actuate ? s.actuator->setReplicas(name, target) : Status::Ok();
  // An actuator that cannot report a count (none, exec) is trusted to have applied the last one.
  const bool remembers = !reported.ok() && reported.status().code() == StatusCode::kUnimplemented;
  if (actuate && result.ok() && remembers) {
    if (Status st = persist(key(name, "replicas"), json{{"replicas", target}, {"at_ms", now_wall}});
        !st.ok()) {
      log::warn("autoscale replica count not stored",
                {{"service", name}, {"error", st.toString()}});
    }
  }

  lock.lock();
  if (mode == "override") {
    const std::string move = std::to_string(d.current) + " -> " + std::to_string(target);
    const std::string auto_says = d.reason;
    d.action = target > d.current ? "scale_up" : target < d.current ? "scale_down" : "hold";
    d.desired = target;
    d.rescale = target != d.current;
    d.reason = "manual override to " + std::to_string(target) + " by " + override_copy.by +
               " until " + formatRfc3339(fromUnixMillis(override_copy.until_ms)) +
               (d.rescale ? " (" + move + ")" : "") + "; autoscaler: " + auto_says;
  } else if (mode == "paused") {
    d.reason = "paused by " + s.paused->first + "; autoscaler: " + d.reason;
    d.action = d.action == "error" ? "error" : "hold";
    d.desired = d.current;
    d.rescale = false;
  }
  if (actuate) {
    if (result.ok()) {
      recordScale(s.history, s.policy, d.current, target, now_mono);
      if (remembers) s.last_set = target;
      s.failures = 0;
      s.last_error.clear();
      d.able_to_scale = {
          "AbleToScale", "True", "SucceededRescale",
          "the HPA controller was able to update the target scale to " + std::to_string(target)};
    } else {
      ++s.failures;
      const int64_t backoff = std::min<int64_t>(
          options_.retry_max_ms, options_.retry_initial_ms << std::min(s.failures - 1, 20));
      s.next_attempt_mono_ms = now_mono + backoff;
      s.last_error = result.toString();
      d.able_to_scale = {
          "AbleToScale", "False", "FailedUpdateScale",
          "the HPA controller was unable to update the target scale: " + result.message()};
      d.reason = "scale to " + std::to_string(target) + " failed: " + result.message() +
                 "; retry in " + std::to_string(backoff / 1000) + "s (" + d.reason + ")";
      d.action = "error";
      if (metrics_) metrics_->countActuatorFailure(name);
      log::warn("autoscale actuator failed",
                {{"service", name}, {"replicas", target}, {"error", result.toString()}});
    }
  } else if (backing_off) {
    d.able_to_scale = {"AbleToScale", "False", "FailedUpdateScale",
                       "the HPA controller was unable to update the target scale: " + s.last_error};
  }
  s.last = d;
  s.last_mode = mode;
  if (metrics_) {
    if (state.current_replicas) {
      metrics_->setDesired(name, d.desired);
      metrics_->setCurrent(name, *state.current_replicas);
    }
    metrics_->countDecision(name, d.action);
    // Every evaluation sets AbleToScale (a failed or backed-off actuator call, or an unknown
    // current scale, makes it False), so the gauge follows the condition the API shows.
    metrics_->setAbleToScale(name, d.able_to_scale.status == "True");
  }
  std::optional<decisions::DecisionRecord> rec = record(s, state, d, mode, actuate, now_mono);
  lock.unlock();
  if (rec && sink_) {
    if (Status st = sink_(std::move(*rec)); !st.ok()) {
      log::warn("autoscale decision not recorded", {{"service", name}, {"error", st.toString()}});
    }
  }
}

// Called with the lock held. Returns the record to hand to the sink, if one is due.
std::optional<decisions::DecisionRecord> AutoscaleCoordinator::record(
    ServiceState& s, const ObservedState& state, const AutoscaleDecision& d,
    const std::string& mode, bool always, int64_t now_mono) {
  const std::string signature = signatureOf(d, mode, d.desired);
  if (!always && signature == s.last_signature &&
      now_mono - s.last_record_mono_ms < options_.repeat_ms) {
    return std::nullopt;
  }
  s.last_signature = signature;
  s.last_record_mono_ms = now_mono;
  decisions::DecisionRecord r = toDecisionRecord(s.policy, state, d, mode);
  r.at_ms = toUnixMillis(clock_.wallNow());
  r.outcome["actuated"] = always;
  if (!s.last_error.empty()) r.outcome["actuator_error"] = s.last_error;
  s.recent.push_front(r);
  while (s.recent.size() > options_.recent_records) s.recent.pop_back();
  return r;
}

// Operator changes are stored and applied under the lock, so a tick that expires an override
// cannot interleave with a new one and leave memory and store disagreeing. They are rare; the
// synced commit holds the tick up for a few milliseconds at most.
Result<ScaleOverride> AutoscaleCoordinator::setOverride(const std::string& service,
                                                        int32_t replicas, int64_t ttl_ms,
                                                        const std::string& by) {
  std::lock_guard<std::mutex> lock(mu_);
  ServiceState* s = find(service);
  if (s == nullptr) return Status::NotFound("service '" + service + "' has no autoscale policy");
  if (replicas < 0 || replicas > s->policy.max_replicas) {
    return Status::InvalidArgument("replicas must be 0-" + std::to_string(s->policy.max_replicas) +
                                   " (the policy's max_replicas)");
  }
  if (ttl_ms == 0) ttl_ms = options_.default_override_ttl_ms;
  if (ttl_ms < 0 || ttl_ms > options_.max_override_ttl_ms) {
    return Status::InvalidArgument("ttl must be greater than 0 and at most 7d");
  }
  ScaleOverride o;
  o.replicas = replicas;
  o.at_ms = toUnixMillis(clock_.wallNow());
  o.until_ms = o.at_ms + ttl_ms;
  o.by = by;
  NOA_RETURN_IF_ERROR(persist(key(service, "override"), overrideJson(o)));
  s->override_ = o;
  log::info("autoscale override set", {{"service", service}, {"replicas", replicas}, {"by", by}});
  return o;
}

Status AutoscaleCoordinator::clearOverride(const std::string& service) {
  std::lock_guard<std::mutex> lock(mu_);
  ServiceState* s = find(service);
  if (s == nullptr) return Status::NotFound("service '" + service + "' has no autoscale policy");
  NOA_RETURN_IF_ERROR(persist(key(service, "override"), std::nullopt));
  s->override_.reset();
  return Status::Ok();
}

Status AutoscaleCoordinator::pause(const std::string& service, const std::string& by) {
  std::lock_guard<std::mutex> lock(mu_);
  ServiceState* s = find(service);
  if (s == nullptr) return Status::NotFound("service '" + service + "' has no autoscale policy");
  const int64_t at = toUnixMillis(clock_.wallNow());
  NOA_RETURN_IF_ERROR(persist(key(service, "paused"), json{{"by", by}, {"at_ms", at}}));
  s->paused = std::make_pair(by, at);
  log::info("autoscale paused", {{"service", service}, {"by", by}});
  return Status::Ok();
}

Status AutoscaleCoordinator::resume(const std::string& service) {
  std::lock_guard<std::mutex> lock(mu_);
  ServiceState* s = find(service);
  if (s == nullptr) return Status::NotFound("service '" + service + "' has no autoscale policy");
  NOA_RETURN_IF_ERROR(persist(key(service, "paused"), std::nullopt));
  s->paused.reset();
  log::info("autoscale resumed", {{"service", service}});
  return Status::Ok();
}

std::vector<std::string> AutoscaleCoordinator::services() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, s] : services_) out.push_back(name);
  return out;
}

Result<json> AutoscaleCoordinator::describe(const std::string& service) const {
  std::lock_guard<std::mutex> lock(mu_);
  const ServiceState* s = find(service);
  if (s == nullptr) return Status::NotFound("service '" + service + "' has no autoscale policy");
  json out = {{"service", service}, {"policy", policyJson(s->policy)}};
  std::string mode = s->override_        ? "override"
                     : s->paused         ? "paused"
                     : s->policy.dry_run ? "dry_run"
                                         : "auto";
  out["mode"] = mode;
  out["override"] = s->override_ ? overrideJson(*s->override_) : json(nullptr);
  out["paused"] =
      s->paused ? json{{"by", s->paused->first}, {"at_ms", s->paused->second}} : json(nullptr);
  if (s->last) {
    out["current_replicas"] = s->last->current;
    out["desired_replicas"] = s->last->desired;
    out["conditions"] = conditionsToJson(*s->last);
    json proposals = json::array();
    for (const MetricProposal& p : s->last->proposals) proposals.push_back(proposalToJson(p));
    out["proposals"] = proposals;
    out["limiting_rule"] = s->last->limiting_rule;
    out["last_action"] = s->last->action;
    out["last_reason"] = s->last->reason;
  } else {
    out["current_replicas"] = nullptr;
    out["desired_replicas"] = nullptr;
    out["conditions"] = json::object();
  }
  out["actuator"] = {{"type", actuatorTypeName(s->policy.actuator.type)},
                     {"failures", s->failures},
                     {"last_error", s->last_error}};
  json recent = json::array();
  for (const auto& r : s->recent) recent.push_back(decisions::decisionToJson(r));
  out["recent_decisions"] = recent;
  return out;
}

}  // namespace noa::controller::autoscale
