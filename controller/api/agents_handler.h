#pragma once

// GET /v1/agents[?service=&state=], GET /v1/agents/{id}, GET /v1/agents/{id}/history
// [?since=&limit=], GET /v1/agents/{id}/metrics?name=[&since=&limit=] (one metric's series out
// of the same stored reports).

#include <cstddef>

#include "controller/api/api_types.h"

namespace noa::controller::api {

inline constexpr size_t kHistoryDefaultLimit = 100;
inline constexpr size_t kHistoryMaxLimit = 10000;

ApiResponse handleListAgents(const ApiContext& context, const ApiRequest& request);
ApiResponse handleGetAgent(const ApiContext& context, const ApiRequest& request);
ApiResponse handleAgentHistory(const ApiContext& context, const ApiRequest& request);
ApiResponse handleAgentMetrics(const ApiContext& context, const ApiRequest& request);

}  // namespace noa::controller::api
