#pragma once

// Durations in flags and policy files: "250ms", "10s", "5m", "24h", "7d", or a bare number of
// seconds.

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace noa {

Result<std::chrono::milliseconds> parseDuration(std::string_view text);
std::string formatDuration(std::chrono::milliseconds d);  // "1500ms", "10s", "7d"

}  // namespace noa
