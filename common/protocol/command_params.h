#pragma once

// Action parameters and outputs as JSON on both ends, carried by protocol v1's typed scalar maps
// plus one JSON-text field for what the maps cannot hold (lists, nested objects): scalars stay
// typed MessagePack, readable by any tool; the rest rides in `params_json` / `output_json`.

#include <nlohmann/json.hpp>
#include <string>

#include "common/protocol/messages.h"
#include "common/status.h"

namespace noa::protocol {

// Puts the members of `params` (a JSON object) into `command`: scalars into `params`, arrays and
// objects into `params_json`. InvalidArgument when `params` is not an object or an integer does
// not fit int64.
Status setCommandParams(const nlohmann::json& params, Command& command);

// The command's parameters as one JSON object: `params` merged with `params_json`.
// InvalidArgument when `params_json` is not a JSON object or a key is in both.
Result<nlohmann::json> commandParams(const Command& command);

// The result's output as one JSON object: `output` merged with `output_json` (a key of
// `output_json` that is also in `output` is ignored; a malformed `output_json` becomes
// {"output_json_unreadable": true}). Never fails: a result is kept whatever its shape.
nlohmann::json resultOutput(const CommandResult& result);

nlohmann::json valueToJson(const Value& value);

}  // namespace noa::protocol
