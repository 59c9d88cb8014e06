#include "common/duration.h"

#include <cctype>
#include <cstdint>

namespace noa {

Result<std::chrono::milliseconds> parseDuration(std::string_view text) {
  const std::string original(text);
  size_t i = 0;
  int64_t value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (value > INT64_MAX / 10 - 10) {
      return Status::InvalidArgument("duration '" + original + "' is too large");
    }
    value = value * 10 + (text[i] - '0');
    ++i;
  }
  if (i == 0) {
    return Status::InvalidArgument("duration '" + original +
                                   "' must start with a number (e.g. 500ms, 10s, 5m, 24h, 7d)");
  }
  const std::string_view unit = text.substr(i);
  int64_t factor_ms = 0;
  if (unit.empty() || unit == "s") {
    factor_ms = 1000;
  } else if (unit == "ms") {
    factor_ms = 1;
  } else if (unit == "m") {
    factor_ms = 60'000;
  } else if (unit == "h") {
    factor_ms = 3'600'000;
  } else if (unit == "d") {
    factor_ms = 86'400'000;
  } else {
    return Status::InvalidArgument("duration '" + original + "' has unknown unit '" +
                                   std::string(unit) + "' (use ms, s, m, h or d)");
  }
  if (value > INT64_MAX / factor_ms) {
    return Status::InvalidArgument("duration '" + original + "' is too large");
  }
  return std::chrono::milliseconds(value * factor_ms);
}

std::string formatDuration(std::chrono::milliseconds d) {
  const int64_t ms = d.count();
  if (ms != 0 && ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace noa
