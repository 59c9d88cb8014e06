#pragma once

// RFC 7807 problem details: every error the API returns is application/problem+json
// {"type", "title", "status", "detail"}. We use type "about:blank" (so the title is the HTTP
// status phrase) and add a "parameter" member when one query parameter is to blame, a "field"
// member when one member of the request body is.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "controller/api/api_types.h"

namespace noa::controller::api {

inline constexpr const char* kProblemContentType = "application/problem+json";

// "Not Found", "Method Not Allowed", ...; "Error" for codes we never send.
std::string_view statusTitle(int status);

nlohmann::json problemJson(int status, std::string_view detail);
ApiResponse problem(int status, std::string_view detail);
// 400 naming the offending query parameter.
ApiResponse badParameter(std::string_view parameter, std::string_view detail);
// 400 naming the offending member of the JSON request body.
ApiResponse badField(std::string_view field, std::string_view detail);
// Maps a Status from the state (store) to 400 / 404 / 503 / 500.
ApiResponse problemFromStatus(const Status& status);

// Label for noa_api_rejected_total: "bad_request", "unauthorized", "forbidden", "rate_limited",
// "not_found", "method_not_allowed",
// "payload_too_large", "uri_too_long", "headers_too_large", "timeout", or "client_error".
std::string_view rejectReason(int status);

}  // namespace noa::controller::api
