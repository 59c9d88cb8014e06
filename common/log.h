#pragma once

// Structured logs: one JSON object per line on stderr,
//   {"ts":"...","level":"info","component":"controller","msg":"agent registered","agent":"pg-1"}
// Messages are short and end without a period; identifiers go in fields, never secrets.
// Thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace noa::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

using Fields = nlohmann::json;  // must be an object (or null for none)

// "debug" | "info" | "warn" | "error" | "off" (also "warning").
Result<Level> parseLevel(std::string_view text);

// Sets the component name and minimum level. Safe to call more than once.
void init(std::string component, Level level);
void setLevel(Level level);
Level level();

// Mirrors every line into this file as well (tests read it); empty path stops mirroring.
void mirrorToFileForTest(const std::string& path);

void write(Level level, std::string_view msg, const Fields& fields = nullptr);

inline bool enabled(Level lvl) { return lvl >= level(); }
inline void debug(std::string_view msg, const Fields& f = nullptr) { write(Level::kDebug, msg, f); }
inline void info(std::string_view msg, const Fields& f = nullptr) { write(Level::kInfo, msg, f); }
inline void warn(std::string_view msg, const Fields& f = nullptr) { write(Level::kWarn, msg, f); }
inline void error(std::string_view msg, const Fields& f = nullptr) { write(Level::kError, msg, f); }

}  // namespace noa::log
