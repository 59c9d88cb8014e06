#pragma once

// noactl tables for the command channel (GET /v1/commands, GET /v1/commands/{id}, POST ...).
// Same conventions as tables.h: a response of the wrong shape is InvalidArgument, a missing or
// null field shows as "-". Times in the command resource are unix ms; `now_ms` is for ages.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace noa::cli {

// {"commands": [Command...]} as ID AGENT ACTION STATE AGE ATTEMPTS ERROR (the result's error
// code); "no commands" when empty.
Result<std::string> renderCommands(const nlohmann::json& body, int64_t now_ms);
// One Command as the same table with one row (what run and cancel print).
Result<std::string> renderCommandRow(const nlohmann::json& command, int64_t now_ms);
// One Command in full: target, params, state, times, progress and result as "key: value"
// lines, then its HISTORY (TIME STATE DETAIL) and the result's OUTPUT as indented JSON.
Result<std::string> renderCommand(const nlohmann::json& command, int64_t now_ms);

// "running: dump 1.5 MiB of ~12.0 MiB", "acked", "running (cancel requested)": the line
// `run --wait` prints when it changes.
std::string commandProgressLine(const nlohmann::json& command);

}  // namespace noa::cli
