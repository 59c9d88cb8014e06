#pragma once

// GET /v1/services and GET /v1/services/{name}: agents grouped by service name, counted by
// liveness, health and readiness, with CPU / memory / metric aggregates over the ready alive
// members and, for replicated services, the primary and each replica's lag. The rules are in
// controller/registry/service_view.h; this file only renders them.

#include <nlohmann/json.hpp>
#include <vector>

#include "controller/api/api_types.h"
#include "controller/registry/agent_record.h"
#include "controller/registry/service_view.h"

namespace noa::controller::api {

// {"count", "sum", "avg", "max"}; the values are null when nothing was counted.
nlohmann::json aggregateJson(const Aggregate& aggregate);
// The Service schema of schemas/openapi.yaml.
nlohmann::json serviceJson(const ServiceView& service);
// {"services": [...]} sorted by name; members sorted by agent id.
nlohmann::json servicesJson(const std::vector<AgentRecord>& agents);

ApiResponse handleListServices(const ApiContext& context, const ApiRequest& request);
ApiResponse handleGetService(const ApiContext& context, const ApiRequest& request);

}  // namespace noa::controller::api
