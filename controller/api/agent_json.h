#pragma once

// JSON views of what the controller knows about agents, shared by the agents and services
// handlers. The shapes are the Agent, Health, Report and HistoryEntry schemas of
// schemas/openapi.yaml; timestamps are RFC 3339 strings, null when unknown (0).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "common/protocol/messages.h"
#include "controller/registry/agent_record.h"

namespace noa::controller::api {

nlohmann::json timestampJson(int64_t unix_ms);
nlohmann::json healthJson(const protocol::Health& health);
// {name: value}; a name reported twice keeps its last value.
nlohmann::json metricsJson(const std::vector<protocol::Metric>& metrics);
nlohmann::json reportJson(const protocol::Report& report);
nlohmann::json agentJson(const AgentRecord& agent);
nlohmann::json historyEntryJson(const HistoryEntry& entry);

// The report's value of one metric (the last one when reported twice); none when absent or not
// a finite number (JSON has no NaN).
std::optional<double> metricValue(const protocol::Report& report, std::string_view name);

// "healthy" | "unhealthy" | "starting" | "unknown" (no report yet).
std::string healthState(const AgentRecord& agent);

}  // namespace noa::controller::api
