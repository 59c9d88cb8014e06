#include "controller/api/query_params.h"

#include <charconv>

#include "controller/api/problem.h"
#include "controller/api/time_param.h"

namespace noa::controller::api {

Result<size_t> parseLimit(const std::optional<std::string>& text, size_t fallback, size_t max) {
  if (!text) return fallback;
  size_t limit = 0;
  const char* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, limit);
  if (text->empty() || ec != std::errc() || ptr != end || limit < 1 || limit > max) {
    return Status::InvalidArgument("limit must be a whole number from 1 to " + std::to_string(max) +
                                   ", not '" + *text + "'");
  }
  return limit;
}

std::optional<ApiResponse> parsePageQuery(const ApiRequest& request, size_t default_limit,
                                          size_t max_limit, PageQuery& query) {
  if (auto text = request.queryParam("since")) {
    Result<int64_t> since = parseTimestamp(*text);
    if (!since.ok()) {
      return badParameter("since", "since must be an RFC 3339 timestamp or unix milliseconds: " +
                                       since.status().message());
    }
    query.since_ms = *since;
  }
  Result<size_t> limit = parseLimit(request.queryParam("limit"), default_limit, max_limit);
  if (!limit.ok()) return badParameter("limit", limit.status().message());
  query.limit = *limit;
  return std::nullopt;
}

}  // namespace noa::controller::api
