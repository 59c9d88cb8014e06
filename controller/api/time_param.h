#pragma once

// Timestamps in query parameters (history's `since=`): RFC 3339 ("2026-05-01T10:00:00Z",
// "2026-05-01T12:00:00.250+02:00") or a bare number of unix milliseconds. The API prints
// timestamps with formatRfc3339 (common/clock.h); this is the reading side.

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace noa::controller::api {

// Unix milliseconds, or InvalidArgument saying what was expected.
Result<int64_t> parseTimestamp(std::string_view text);

// RFC 3339 only (no bare numbers); sub-millisecond digits are truncated.
Result<int64_t> parseRfc3339(std::string_view text);

}  // namespace noa::controller::api
