#pragma once

// Request bodies and refusals several resources share (commands, backups). Bodies are strict:
// a JSON object whose unknown members are refused rather than ignored (a misspelt "deadline"
// or "swap" would otherwise silently run with the default), each error a 400 naming the
// member (`field`, problem.h).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "controller/api/api_types.h"

namespace noa::controller::api {

// The caller's name for created_by and history entries ("anonymous" without a token).
std::string actorOf(const ApiRequest& request);

// Parses `text` into a JSON object. An empty text is {} when `empty_is_object`; anything else
// that is not an object is a 400 whose detail shows `example`.
std::optional<ApiResponse> parseBodyObject(const std::string& text, std::string_view example,
                                           bool empty_is_object, nlohmann::json& out);

// A non-empty string member, or the 400 naming it.
std::optional<ApiResponse> readString(const std::string& name, const nlohmann::json& value,
                                      std::string& out);
// A boolean member, or the 400 naming it.
std::optional<ApiResponse> readBool(const std::string& name, const nlohmann::json& value,
                                    bool& out);
// The 400 for a member the body does not know; `known` lists the ones it does.
ApiResponse unknownField(const std::string& name, std::string_view known);

// For routes that take no fields: the body must be empty or {} (members are refused rather
// than ignored: a "reason" would be lost). `route` names the route in the message.
std::optional<ApiResponse> expectNoFields(const ApiRequest& request, std::string_view route);

// A refusal to create a command as HTTP: the caller named something that does not exist
// (NotFound: 404), that is in no state for it (FailedPrecondition: 409; Unavailable, an agent
// that is lost: 409), or asked for what it cannot do (InvalidArgument: 400). Other codes as
// problemFromStatus.
ApiResponse commandRefusal(const Status& status);

}  // namespace noa::controller::api
