#include "controller/api/failover_handler.h"

#include <optional>
#include <string>

#include "controller/api/problem.h"
#include "controller/api/query_params.h"
#include "controller/api/request_body.h"
#include "controller/decisions/decision_log.h"
#include "controller/failover/failover_coordinator.h"

namespace noa::controller::api {
namespace {

using failover::FailoverCoordinator;
using failover::MemberState;
using failover::ServiceFailoverView;
using nlohmann::json;

ApiResponse failoverOff() { return problem(503, "failover is not available"); }

json timestampOrNull(int64_t unix_ms) {
  return unix_ms == 0 ? json(nullptr) : json(formatRfc3339(fromUnixMillis(unix_ms)));
}

ApiResponse refusal(const Status& status) {
  if (status.code() == StatusCode::kFailedPrecondition) return problem(409, status.message());
  return problemFromStatus(status);
}

json memberJson(const MemberState& m) {
  json j = {{"member", m.agent_id},
            {"reachable", m.reachable},
            {"role", m.role.empty() ? json(nullptr) : json(m.role)},
            {"live", m.live},
            {"position", m.position_text.empty() ? json(nullptr) : json(m.position_text)},
            {"timeline", m.timeline.empty() ? json(nullptr) : json(m.timeline)},
            {"fenced", m.fenced.empty() ? json(nullptr) : json(m.fenced)},
            {"service_process", m.process_exited ? "exited" : "running"},
            {"endpoint", m.endpoint_port == 0 ? json(nullptr)
                                              : json(m.endpoint_host + ":" + std::to_string(m.endpoint_port))}};
  return j;
}

json historyJson(const failover::LeaderRecord& record) {
  json out = json::array();
  for (auto it = record.history.rbegin(); it != record.history.rend(); ++it) {
    out.push_back({{"epoch", it->epoch},
                   {"leader", it->leader},
                   {"since", timestampOrNull(it->since_ms)},
                   {"kind", it->kind},
                   {"previous", it->previous.empty() ? json(nullptr) : json(it->previous)},
                   {"position", it->position.empty() ? json(nullptr) : json(it->position)},
                   {"reason", it->reason}});
  }
  return out;
}

json viewJson(const ServiceFailoverView& v) {
  const auto& r = v.record;
  json members = json::array();
  for (const auto& m : v.members) members.push_back(memberJson(m));
  json transition = nullptr;
  if (r.transition) {
    const auto& t = *r.transition;
    transition = {{"kind", failover::transitionKindName(t.kind)},
                  {"phase", failover::phaseName(t.phase)},
                  {"from", t.from},
                  {"candidate", t.candidate.empty() ? json(nullptr) : json(t.candidate)},
                  {"reason", t.reason},
                  {"started", timestampOrNull(t.started_ms)},
                  {"fence_command", t.fence_command.empty() ? json(nullptr) : json(t.fence_command)},
                  {"promote_command", t.promote_command.empty() ? json(nullptr) : json(t.promote_command)},
                  {"tried", t.tried}};
  }
  return {{"service", r.service},
          {"leader", r.leader.empty() ? json(nullptr) : json(r.leader)},
          {"epoch", r.epoch},
          {"since", timestampOrNull(r.since_ms)},
          {"leader_health", v.leader_health.empty() ? json(nullptr) : json(v.leader_health)},
          {"lease_valid", v.lease_valid},
          {"paused", r.paused},
          {"paused_reason", r.paused_reason.empty() ? json(nullptr) : json(r.paused_reason)},
          {"transition", transition},
          {"members", members}};
}

json decisionJson(const decisions::DecisionRecord& d) {
  json j = decisions::decisionToJson(d);
  j["at"] = timestampOrNull(d.at_ms);
  return j;
}

// {"to"?} or {"reason"?}: the one optional string field `field`; nullopt when well formed.
std::optional<ApiResponse> parseOptionalString(const std::string& text, const char* field,
                                               std::string_view example, std::string& out) {
  json body;
  if (auto bad = parseBodyObject(text, example, /*empty_is_object=*/true, body)) return bad;
  for (const auto& [name, value] : body.items()) {
    if (name != field) return unknownField(name, field);
    if (auto bad = readString(name, value, out)) return bad;
  }
  return std::nullopt;
}

}  // namespace

ApiResponse handleGetPrimary(const ApiContext& context, const ApiRequest& request) {
  FailoverCoordinator* f = context.state.failover();
  if (f == nullptr) return failoverOff();
  auto v = f->view(request.path_params.at("name"));
  if (!v.ok()) return refusal(v.status());
  if (v->record.leader.empty() || !v->leader || v->leader_health != "serving" || v->record.transition) {
    return problem(404, "service '" + v->record.service + "' has no serving primary right now" +
                            (v->record.transition ? std::string(" (a failover is in progress)") : std::string()));
  }
  const MemberState& m = *v->leader;
  return jsonResponse(200, {{"service", v->record.service},
                            {"member", m.agent_id},
                            {"host", m.endpoint_host.empty() ? json(nullptr) : json(m.endpoint_host)},
                            {"port", m.endpoint_port == 0 ? json(nullptr) : json(m.endpoint_port)},
                            {"epoch", v->record.epoch},
                            {"since", timestampOrNull(v->record.since_ms)},
                            {"lease_valid", v->lease_valid},
                            {"position", m.position_text.empty() ? json(nullptr) : json(m.position_text)}});
}

ApiResponse handleGetFailover(const ApiContext& context, const ApiRequest& request) {
  FailoverCoordinator* f = context.state.failover();
  if (f == nullptr) return failoverOff();
  auto v = f->view(request.path_params.at("name"));
  if (!v.ok()) return refusal(v.status());
  return jsonResponse(200, viewJson(*v));
}

ApiResponse handleLeaderHistory(const ApiContext& context, const ApiRequest& request) {
  FailoverCoordinator* f = context.state.failover();
  if (f == nullptr) return failoverOff();
  auto v = f->view(request.path_params.at("name"));
  if (!v.ok()) return refusal(v.status());
  return jsonResponse(200, {{"service", v->record.service}, {"history", historyJson(v->record)}});
}

ApiResponse handleSwitchover(const ApiContext& context, const ApiRequest& request) {
  FailoverCoordinator* f = context.state.failover();
  if (f == nullptr) return failoverOff();
  std::string to;
  if (auto bad = parseOptionalString(request.body, "to", R"({"to": "pg-2"})", to)) return *bad;
  auto v = f->switchover(request.path_params.at("name"), to, actorOf(request));
  if (!v.ok()) return refusal(v.status());
  return jsonResponse(202, viewJson(*v));
}

ApiResponse handleForceFailover(const ApiContext& context, const ApiRequest& request) {
  FailoverCoordinator* f = context.state.failover();
  if (f == nullptr) return failoverOff();
  std::string to;
  if (auto bad = parseOptionalString(request.body, "to", R"({"to": "pg-2"})", to)) return *bad;
  if (to.empty()) return badField("to", "to is required: the member to promote, e.g. pg-2");
  auto v = f->forceFailover(request.path_params.at("name"), to, actorOf(request));
  if (!v.ok()) return refusal(v.status());
  return jsonResponse(202, viewJson(*v));
}

ApiResponse handlePauseFailover(const ApiContext& context, const ApiRequest& request) {
  FailoverCoordinator* f = context.state.failover();
  if (f == nullptr) return failoverOff();
  std::string reason;
  if (auto bad = parseOptionalString(request.body, "reason", R"({"reason": "maintenance"})", reason)) {
    return *bad;
  }
  auto v = f->setPaused(request.path_params.at("name"), true, reason, actorOf(request));
  if (!v.ok()) return refusal(v.status());
  return jsonResponse(200, viewJson(*v));
}

ApiResponse handleResumeFailover(const ApiContext& context, const ApiRequest& request) {
  FailoverCoordinator* f = context.state.failover();
  if (f == nullptr) return failoverOff();
  std::string unused;
  if (auto bad = parseOptionalString(request.body, "reason", R"({})", unused)) return *bad;
  auto v = f->setPaused(request.path_params.at("name"), false, "", actorOf(request));
  if (!v.ok()) return refusal(v.status());
  return jsonResponse(200, viewJson(*v));
}

ApiResponse handleListDecisions(const ApiContext& context, const ApiRequest& request) {
  decisions::DecisionLog* log = context.state.decisions();
  if (log == nullptr) return problem(503, "the decision log is not available");
  PageQuery page;
  if (auto bad = parsePageQuery(request, 100, 1000, page)) return *bad;
  decisions::DecisionFilter filter;
  filter.service = request.queryParam("service").value_or("");
  filter.kind = request.queryParam("kind").value_or("");
  filter.since_ms = page.since_ms;
  filter.limit = page.limit;
  auto list = log->list(filter);
  if (!list.ok()) return problemFromStatus(list.status());
  json items = json::array();
  for (const auto& d : *list) items.push_back(decisionJson(d));
  return jsonResponse(200, {{"decisions", items}, {"count", items.size()}});
}

}  // namespace noa::controller::api
