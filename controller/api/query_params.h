#pragma once

// Query parameters several resources share: `limit=` (a bounded page size) and `since=`
// (a timestamp, see time_param.h). Each returns a 400 problem naming the parameter when bad.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "controller/api/api_types.h"

namespace noa::controller::api {

// `text` absent -> `fallback`; otherwise a whole number from 1 to `max`.
Result<size_t> parseLimit(const std::optional<std::string>& text, size_t fallback, size_t max);

struct PageQuery {
  int64_t since_ms = 0;
  size_t limit = 0;
};

// Reads since= and limit=; nullopt when both are fine, else the 400 answer.
std::optional<ApiResponse> parsePageQuery(const ApiRequest& request, size_t default_limit,
                                          size_t max_limit, PageQuery& query);

}  // namespace noa::controller::api
