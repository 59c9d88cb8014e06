#pragma once

// GET /v1/services: agents grouped by their service name, with counts per liveness state and
// how many members are healthy and ready. A lost agent's last report is stale, so lost members
// never count as healthy or ready.

#include <nlohmann/json.hpp>
#include <vector>

#include "controller/api/api_types.h"
#include "controller/registry/agent_record.h"

namespace noa::controller::api {

// {"services": [...]} sorted by name; members sorted by agent id.
nlohmann::json servicesJson(const std::vector<AgentRecord>& agents);

ApiResponse handleListServices(const ApiContext& context, const ApiRequest& request);

}  // namespace noa::controller::api
