// Fuzzes the REST API's request-body parsers (every POST/PUT body the controller reads). The
// first byte picks the parser, the rest is the body, so one corpus covers all of them and the
// fuzzer can move an input from one route to another. A refusal must be a 400 problem whose
// body is JSON naming what is wrong, never a crash, an exception or a 500.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "controller/api/request_body.h"
#include "tests/fuzz/rest_bodies/rest_bodies.h"

namespace {

using noa::controller::api::ApiRequest;
using noa::controller::api::ApiResponse;
namespace fuzz = noa::controller::api::fuzz;

// The routes, by first byte (modulo the count): keep in step with tests/fuzz/README.md.
std::optional<ApiResponse> parse(uint8_t selector, const std::string& body) {
  switch (selector % 10) {
    case 0: return fuzz::commandsCreateBody(body);
    case 1: return fuzz::backupsServiceBody(body, /*policy_allowed=*/true);
    case 2: return fuzz::backupsServiceBody(body, /*policy_allowed=*/false);
    case 3: return fuzz::backupsRestoreBody(body);
    case 4: return fuzz::backupsPinBody(body);
    case 5: return fuzz::failoverOptionalString(body, "to", R"({"to": "pg-2"})");
    case 6: return fuzz::failoverOptionalString(body, "reason", R"({"reason": "maintenance"})");
    case 7: return fuzz::autoscaleScaleBody(body);
    case 8: {
      ApiRequest request;
      request.body = body;
      return noa::controller::api::expectNoFields(request, "cancel");
    }
    default: {
      nlohmann::json out;
      return noa::controller::api::parseBodyObject(body, "{}", /*empty_is_object=*/true, out);
    }
  }
}

[[noreturn]] void fail(const char* what, const ApiResponse& response) {
  std::fprintf(stderr, "%s: status %d, body %s\n", what, response.status, response.body.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::optional<ApiResponse> refusal = parse(data[0], body);
  if (!refusal) return 0;
  if (refusal->status != 400) fail("a refusal that is not a 400", *refusal);
  const nlohmann::json problem = nlohmann::json::parse(refusal->body, nullptr, false);
  if (problem.is_discarded() || !problem.is_object() || !problem.contains("detail")) {
    fail("a refusal whose body is not a problem document", *refusal);
  }
  return 0;
}
