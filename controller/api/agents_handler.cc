#include "controller/api/agents_handler.h"

#include <charconv>

#include "controller/api/agent_json.h"
#include "controller/api/problem.h"
#include "controller/api/time_param.h"

namespace noa::controller::api {
namespace {

using nlohmann::json;

ApiResponse unknownAgent(const std::string& id) { return problem(404, "no agent '" + id + "'"); }

Result<size_t> parseLimit(const std::optional<std::string>& text) {
  if (!text) return kHistoryDefaultLimit;
  size_t limit = 0;
  const char* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, limit);
  if (text->empty() || ec != std::errc() || ptr != end || limit < 1 || limit > kHistoryMaxLimit) {
    return Status::InvalidArgument("limit must be a whole number from 1 to " +
                                   std::to_string(kHistoryMaxLimit) + ", not '" + *text + "'");
  }
  return limit;
}

struct HistoryQuery {
  int64_t since_ms = 0;
  size_t limit = kHistoryDefaultLimit;
};

// since= and limit=, shared by history and metric series; a 400 problem when either is bad.
std::optional<ApiResponse> parseHistoryQuery(const ApiRequest& request, HistoryQuery& query) {
  if (auto text = request.queryParam("since")) {
    Result<int64_t> since = parseTimestamp(*text);
    if (!since.ok()) {
      return badParameter("since", "since must be an RFC 3339 timestamp or unix milliseconds: " +
                                       since.status().message());
    }
    query.since_ms = *since;
  }
  Result<size_t> limit = parseLimit(request.queryParam("limit"));
  if (!limit.ok()) return badParameter("limit", limit.status().message());
  query.limit = *limit;
  return std::nullopt;
}

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
  HistoryQuery query;
  if (auto bad = parseHistoryQuery(request, query)) return *bad;
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
  HistoryQuery query;
  if (auto bad = parseHistoryQuery(request, query)) return *bad;
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
