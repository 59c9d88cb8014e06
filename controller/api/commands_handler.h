#pragma once

// The command channel over REST (schemas/openapi.yaml, "Command"):
//   POST /v1/commands                 create one: {"action", "agent_id" | "service" [+ "role"],
//                                     "params"?, "timeout"? | "deadline_ms"?} -> 201 + Location
//   GET  /v1/commands                 newest first; state=, service=, agent=, limit= (1..1000)
//   GET  /v1/commands/{id}            one; wait=D (at most 60s) answers as soon as it finished
//   POST /v1/commands/{id}/cancel     cancel it (409 when it already finished)
// Every answer carries the record as commandToJson() writes it. 503 when the controller has no
// command channel.

#include "controller/api/api_types.h"

namespace noa::controller::api {

ApiResponse handleCreateCommand(const ApiContext& context, const ApiRequest& request);
ApiResponse handleListCommands(const ApiContext& context, const ApiRequest& request);
ApiResponse handleGetCommand(const ApiContext& context, const ApiRequest& request);
ApiResponse handleCancelCommand(const ApiContext& context, const ApiRequest& request);

}  // namespace noa::controller::api
