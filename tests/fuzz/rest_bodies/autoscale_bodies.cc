// See rest_bodies.h: the handler file is included for its anonymous-namespace parsers.
#include "controller/api/autoscale_handler.cc"
#include "tests/fuzz/rest_bodies/rest_bodies.h"

namespace noa::controller::api::fuzz {

std::optional<ApiResponse> autoscaleScaleBody(const std::string& body) {
  int32_t replicas = 0;
  int64_t ttl_ms = 0;
  return parseScaleBody(body, replicas, ttl_ms);
}

}  // namespace noa::controller::api::fuzz
