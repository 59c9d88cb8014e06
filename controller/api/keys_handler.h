#pragma once

// Agent key enrollment (CURVE): GET /v1/keys, POST /v1/keys/{id}/accept (optional body
// {"agent_id": "..."} when the key has not claimed an id yet, or to bind another one),
// POST /v1/keys/{id}/reject, POST /v1/keys/{id}/revoke. Answers 409 when the controller runs
// with --insecure-plaintext (there are no keys) or the transition is not allowed.

#include "controller/api/api_types.h"

namespace noa::controller::api {

ApiResponse handleListKeys(const ApiContext& context, const ApiRequest& request);
ApiResponse handleAcceptKey(const ApiContext& context, const ApiRequest& request);
ApiResponse handleRejectKey(const ApiContext& context, const ApiRequest& request);
ApiResponse handleRevokeKey(const ApiContext& context, const ApiRequest& request);

}  // namespace noa::controller::api
