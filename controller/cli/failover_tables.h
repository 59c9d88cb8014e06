#pragma once

// noactl tables for failover (GET /v1/services/{name}/failover, .../history, /v1/decisions).
// Same conventions as tables.h: a response of the wrong shape is InvalidArgument, a missing or
// null field shows as "-". `now_ms` is for ages.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace noa::cli {

// The leader record as "key: value" lines (leader, epoch, health, lease, paused, transition),
// then MEMBER ROLE STATE POSITION TIMELINE FENCED ENDPOINT.
Result<std::string> renderFailover(const nlohmann::json& body, int64_t now_ms);
// {"history": [...]} as EPOCH LEADER SINCE KIND PREVIOUS POSITION REASON, newest first.
Result<std::string> renderLeaderHistory(const nlohmann::json& body, int64_t now_ms);
// {"decisions": [...]} as TIME SERVICE KIND ACTION REASON, newest first.
Result<std::string> renderDecisions(const nlohmann::json& body, int64_t now_ms);

}  // namespace noa::cli
