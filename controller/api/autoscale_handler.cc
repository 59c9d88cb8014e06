#include "controller/api/autoscale_handler.h"

#include <limits>
#include <string>

#include "common/duration.h"
#include "controller/api/problem.h"
#include "controller/api/request_body.h"
#include "controller/autoscale/autoscale_coordinator.h"

namespace noa::controller::api {
namespace {

using autoscale::AutoscaleCoordinator;
using nlohmann::json;

ApiResponse autoscaleOff() { return problem(503, "autoscaling is not available"); }

ApiResponse stateOf(AutoscaleCoordinator& coordinator, const std::string& service) {
  Result<json> state = coordinator.describe(service);
  if (!state.ok()) {
    if (state.status().code() == StatusCode::kNotFound) {
      return problem(404, "service '" + service + "' has no autoscale policy");
    }
    return problemFromStatus(state.status());
  }
  return jsonResponse(200, *state);
}

ApiResponse refusal(const Status& status, const std::string& service) {
  if (status.code() == StatusCode::kNotFound) {
    return problem(404, "service '" + service + "' has no autoscale policy");
  }
  if (status.code() == StatusCode::kInvalidArgument) return badField("replicas", status.message());
  return problemFromStatus(status);
}

// {"replicas": N, "ttl": "30m" | seconds}; nullopt when well formed, else the 400.
std::optional<ApiResponse> parseScaleBody(const std::string& text, int32_t& replicas,
                                          int64_t& ttl_ms) {
  json body;
  if (auto bad = parseBodyObject(text, R"({"replicas": 4, "ttl": "30m"})",
                                 /*empty_is_object=*/false, body)) {
    return bad;
  }
  bool have_replicas = false;
  for (const auto& [name, value] : body.items()) {
    if (name == "replicas") {
      if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
          value.get<int64_t>() > 100'000) {
        return badField("replicas", "replicas must be a whole number 0-100000");
      }
      replicas = value.get<int32_t>();
      have_replicas = true;
    } else if (name == "ttl") {
      if (value.is_number_integer() && value.get<int64_t>() > 0) {
        // Seconds that overflow as milliseconds would wrap; far beyond any allowed ttl anyway.
        if (value.get<int64_t>() > std::numeric_limits<int64_t>::max() / 1000) {
          return badField("ttl", "ttl in seconds is out of range");
        }
        ttl_ms = value.get<int64_t>() * 1000;
      } else if (value.is_string()) {
        auto parsed = parseDuration(value.get<std::string>());
        if (!parsed.ok() || parsed->count() <= 0) {
          return badField("ttl", "ttl must be a duration greater than 0, e.g. \"30m\"");
        }
        ttl_ms = parsed->count();
      } else {
        return badField("ttl", "ttl must be a duration, e.g. \"30m\", or seconds");
      }
    } else {
      return unknownField(name, "replicas, ttl");
    }
  }
  if (!have_replicas) return badField("replicas", "replicas is required, e.g. 4");
  return std::nullopt;
}

}  // namespace

ApiResponse handleGetAutoscale(const ApiContext& context, const ApiRequest& request) {
  AutoscaleCoordinator* coordinator = context.state.autoscale();
  if (coordinator == nullptr) return autoscaleOff();
  return stateOf(*coordinator, request.path_params.at("name"));
}

ApiResponse handleScaleService(const ApiContext& context, const ApiRequest& request) {
  AutoscaleCoordinator* coordinator = context.state.autoscale();
  if (coordinator == nullptr) return autoscaleOff();
  const std::string& service = request.path_params.at("name");
  int32_t replicas = 0;
  int64_t ttl_ms = 0;
  if (auto bad = parseScaleBody(request.body, replicas, ttl_ms)) return *bad;
  auto set = coordinator->setOverride(service, replicas, ttl_ms, actorOf(request));
  if (!set.ok()) {
    if (set.status().code() == StatusCode::kInvalidArgument &&
        set.status().message().rfind("ttl", 0) == 0) {
      return badField("ttl", set.status().message());
    }
    return refusal(set.status(), service);
  }
  return stateOf(*coordinator, service);
}

ApiResponse handlePauseAutoscale(const ApiContext& context, const ApiRequest& request) {
  AutoscaleCoordinator* coordinator = context.state.autoscale();
  if (coordinator == nullptr) return autoscaleOff();
  if (auto bad = expectNoFields(request, "pause")) return *bad;
  const std::string& service = request.path_params.at("name");
  if (Status st = coordinator->pause(service, actorOf(request)); !st.ok()) {
    return refusal(st, service);
  }
  return stateOf(*coordinator, service);
}

ApiResponse handleResumeAutoscale(const ApiContext& context, const ApiRequest& request) {
  AutoscaleCoordinator* coordinator = context.state.autoscale();
  if (coordinator == nullptr) return autoscaleOff();
  if (auto bad = expectNoFields(request, "resume")) return *bad;
  const std::string& service = request.path_params.at("name");
  if (Status st = coordinator->resume(service); !st.ok()) return refusal(st, service);
  return stateOf(*coordinator, service);
}

}  // namespace noa::controller::api
