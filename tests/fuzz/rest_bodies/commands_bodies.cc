// See rest_bodies.h: the handler file is included for its anonymous-namespace parsers.
#include "controller/api/commands_handler.cc"
#include "tests/fuzz/rest_bodies/rest_bodies.h"

namespace noa::controller::api::fuzz {

std::optional<ApiResponse> commandsCreateBody(const std::string& body) {
  CreateBody parsed;
  if (auto bad = parseCreateBody(body, parsed)) return bad;
  // A fixed "now" (2026-09-21) keeps runs reproducible.
  std::string field;
  Result<int64_t> deadline = deadlineOf(parsed, 1'790'000'000'000, field);
  if (!deadline.ok()) return badField(field, deadline.status().message());
  return std::nullopt;
}

}  // namespace noa::controller::api::fuzz
