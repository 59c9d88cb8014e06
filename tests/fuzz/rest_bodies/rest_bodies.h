#pragma once

// The REST API's request-body parsers, reached for fuzzing. They live in the handlers'
// anonymous namespaces (each is one handler's detail), so each rest_bodies/*.cc includes one
// handler .cc and forwards to them: the fuzzer runs the production code itself, not a copy.
// Each returns the parser's refusal (a 400 problem), nullopt when the body is accepted.

#include <optional>
#include <string>

#include "controller/api/api_types.h"

namespace noa::controller::api::fuzz {

// POST /v1/commands, then its timeout / deadline_ms check as handleCreateCommand runs it.
std::optional<ApiResponse> commandsCreateBody(const std::string& body);
// POST /v1/backups (policy_allowed) and POST /v1/backups/drills.
std::optional<ApiResponse> backupsServiceBody(const std::string& body, bool policy_allowed);
// POST /v1/backups/{id}/restore.
std::optional<ApiResponse> backupsRestoreBody(const std::string& body);
// PUT /v1/backups/{id}/pin.
std::optional<ApiResponse> backupsPinBody(const std::string& body);
// switchover / failover ({"to"}) and pause ({"reason"}), resume ({}).
std::optional<ApiResponse> failoverOptionalString(const std::string& body, const char* field,
                                                  const char* example);
// PUT /v1/services/{name}/scale.
std::optional<ApiResponse> autoscaleScaleBody(const std::string& body);

}  // namespace noa::controller::api::fuzz
