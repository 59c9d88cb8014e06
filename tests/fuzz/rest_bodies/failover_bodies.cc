// See rest_bodies.h: the handler file is included for its anonymous-namespace parsers.
#include "controller/api/failover_handler.cc"
#include "tests/fuzz/rest_bodies/rest_bodies.h"

namespace noa::controller::api::fuzz {

std::optional<ApiResponse> failoverOptionalString(const std::string& body, const char* field,
                                                  const char* example) {
  std::string value;
  return parseOptionalString(body, field, example, value);
}

}  // namespace noa::controller::api::fuzz
