#include "controller/api/agents_handler.h"

#include "controller/api/agent_json.h"
#include "controller/api/problem.h"
#include "controller/api/query_params.h"

namespace noa::controller::api {
namespace {

using nlohmann::json;

ApiResponse unknownAgent(const std::string& id) { return problem(404, "no agent '" + id + "'"); }

}  // namespace

ApiResponse handleListAgents(const ApiContext& context, const ApiRequest& request) {
  const std::string service = request.queryParam("service").value_or("");
  std::optional<Liveness> state;
  if (auto text = request.queryParam("state"); text && !text->empty()) {
    state = parseLiveness(*text);
    if (!state) {
      return badParameter("state", "state must be alive, suspect or lost, not '" + *text + "'");
    }
  }
  json agents = json::array();
  for (const AgentRecord& agent : context.state.agents()) {
    if (!service.empty() && agent.hello.service != service) continue;
    if (state && agent.liveness != *state) continue;
    agents.push_back(agentJson(agent));
  }
  return jsonResponse(200, {{"agents", std::move(agents)}});
}

ApiResponse handleGetAgent(const ApiContext& context, const ApiRequest& request) {
  const std::string& id = request.path_params.at("id");
  std::optional<AgentRecord> agent = context.state.agent(id);
  if (!agent) return unknownAgent(id);
  return jsonResponse(200, agentJson(*agent));
}

ApiResponse handleAgentHistory(const ApiContext& context, const ApiRequest& request) {
  const std::string& id = request.path_params.at("id");
  PageQuery query;
  if (auto bad = parsePageQuery(request, kHistoryDefaultLimit, kHistoryMaxLimit, query))
    return *bad;
  if (!context.state.agent(id)) return unknownAgent(id);

  Result<std::vector<HistoryEntry>> history =
      context.state.history(id, query.since_ms, query.limit);
  if (!history.ok()) return problemFromStatus(history.status());
  json entries = json::array();
  for (const HistoryEntry& entry : *history) entries.push_back(historyEntryJson(entry));
  return jsonResponse(200, {{"agent", id}, {"entries", std::move(entries)}});
}

ApiResponse handleAgentMetrics(const ApiContext& context, const ApiRequest& request) {
  const std::string& id = request.path_params.at("id");
  const std::string name = request.queryParam("name").value_or("");
  if (name.empty()) return badParameter("name", "name is required, e.g. cpu_usage_cores");
  PageQuery query;
  if (auto bad = parsePageQuery(request, kHistoryDefaultLimit, kHistoryMaxLimit, query))
    return *bad;
  if (!context.state.agent(id)) return unknownAgent(id);

  Result<std::vector<HistoryEntry>> history =
      context.state.history(id, query.since_ms, query.limit);
  if (!history.ok()) return problemFromStatus(history.status());
  json points = json::array();
  for (const HistoryEntry& entry : *history) {
    if (std::optional<double> value = metricValue(entry.report, name)) {
      points.push_back({{"ts", timestampJson(entry.ts_ms)}, {"value", *value}});
    }
  }
  return jsonResponse(200, {{"agent", id}, {"name", name}, {"points", std::move(points)}});
}

}  // namespace noa::controller::api
