#include "controller/api/services_handler.h"

#include "controller/api/problem.h"

namespace noa::controller::api {

using nlohmann::json;

namespace {

template <class T>
json optionalJson(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json memberJson(const MemberView& m) {
  return {{"id", m.agent_id},
          {"state", livenessName(m.liveness)},
          {"health", m.health},
          {"role", m.role},
          {"host", m.host},
          {"kind", m.kind},
          {"ready", m.ready},
          {"counted", m.counted},
          {"cpu_ratio", optionalJson(m.cpu_ratio)},
          {"memory_ratio", optionalJson(m.memory_ratio)},
          {"lag_bytes", optionalJson(m.lag_bytes)},
          {"lag_seconds", optionalJson(m.lag_seconds)},
          {"lag_source", lagSourceName(m.lag_source)}};
}

json replicationJson(const std::optional<ReplicationView>& replication) {
  if (!replication) return nullptr;
  return {{"primary", optionalJson(replication->primary)},
          {"primaries", replication->primaries},
          {"replicas", replication->replicas},
          {"max_lag_bytes", optionalJson(replication->max_lag_bytes)}};
}

}  // namespace

json aggregateJson(const Aggregate& aggregate) {
  if (aggregate.count == 0) {
    return {{"count", 0}, {"sum", nullptr}, {"avg", nullptr}, {"max", nullptr}};
  }
  return {{"count", aggregate.count},
          {"sum", aggregate.sum},
          {"avg", aggregate.avg},
          {"max", aggregate.max}};
}

json serviceJson(const ServiceView& service) {
  json members = json::array();
  for (const MemberView& m : service.members) members.push_back(memberJson(m));
  json metrics = json::object();
  for (const auto& [name, aggregate] : service.metrics) metrics[name] = aggregateJson(aggregate);
  return {{"name", service.name},
          {"kind", service.kind},
          {"agents", service.known},
          {"alive", service.alive},
          {"suspect", service.suspect},
          {"lost", service.lost},
          {"healthy", service.healthy},
          {"ready", service.ready},
          {"counted", service.counted},
          {"cpu_ratio", aggregateJson(service.cpu_ratio)},
          {"memory_ratio", aggregateJson(service.memory_ratio)},
          {"metrics", std::move(metrics)},
          {"replication", replicationJson(service.replication)},
          {"members", std::move(members)}};
}

json servicesJson(const std::vector<AgentRecord>& agents) {
  json services = json::array();
  for (const ServiceView& service : summarizeServices(agents)) {
    services.push_back(serviceJson(service));
  }
  return {{"services", std::move(services)}};
}

ApiResponse handleListServices(const ApiContext& context, const ApiRequest& /*request*/) {
  return jsonResponse(200, servicesJson(context.state.agents()));
}

ApiResponse handleGetService(const ApiContext& context, const ApiRequest& request) {
  const std::string& name = request.path_params.at("name");
  std::vector<AgentRecord> members;
  for (AgentRecord& agent : context.state.agents()) {
    if (agent.hello.service == name) members.push_back(std::move(agent));
  }
  if (members.empty()) return problem(404, "no service '" + name + "'");
  return jsonResponse(200, serviceJson(summarizeService(members)));
}

}  // namespace noa::controller::api
