#include "controller/api/request_body.h"

#include "controller/api/problem.h"

namespace noa::controller::api {

using nlohmann::json;

std::string actorOf(const ApiRequest& request) {
  return request.caller.actor.empty() ? std::string("anonymous") : request.caller.actor;
}

std::optional<ApiResponse> parseBodyObject(const std::string& text, std::string_view example,
                                           bool empty_is_object, json& out) {
  if (text.empty() && empty_is_object) {
    out = json::object();
    return std::nullopt;
  }
  out = json::parse(text, nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    return problem(400, "the body must be a JSON object such as " + std::string(example));
  }
  return std::nullopt;
}

std::optional<ApiResponse> readString(const std::string& name, const json& value,
                                      std::string& out) {
  if (!value.is_string()) return badField(name, name + " must be a string");
  out = value.get<std::string>();
  if (out.empty()) return badField(name, name + " must not be empty");
  return std::nullopt;
}

std::optional<ApiResponse> readBool(const std::string& name, const json& value, bool& out) {
  if (!value.is_boolean()) return badField(name, name + " must be true or false");
  out = value.get<bool>();
  return std::nullopt;
}

ApiResponse unknownField(const std::string& name, std::string_view known) {
  return badField(name, "unknown field '" + name + "' (known: " + std::string(known) + ")");
}

std::optional<ApiResponse> expectNoFields(const ApiRequest& request, std::string_view route) {
  if (request.body.empty()) return std::nullopt;
  const json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return problem(400, "the body must be empty or {}");
  }
  if (body.empty()) return std::nullopt;
  const std::string& name = body.begin().key();
  return badField(name,
                  "unknown field '" + name + "' (" + std::string(route) + " takes no fields)");
}

ApiResponse commandRefusal(const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return problem(404, status.message());
    case StatusCode::kUnavailable:
      return problem(409, status.message() +
                              ": a command for it would never be delivered; wait until it is "
                              "back or choose another agent");
    case StatusCode::kFailedPrecondition:
      return problem(409, status.message());
    case StatusCode::kInvalidArgument:
      return problem(400, status.message());
    default:
      return problemFromStatus(status);
  }
}

}  // namespace noa::controller::api
