#pragma once

// GET /v1/health: the controller's identity, uptime, store status, agent counts by liveness
// and the liveness policy. 503 with status "degraded" while the store has a sticky error.

#include "controller/api/api_types.h"

namespace noa::controller::api {

ApiResponse handleHealth(const ApiContext& context, const ApiRequest& request);

}  // namespace noa::controller::api
