#pragma once

// Autoscaling over REST (schemas/openapi.yaml, "AutoscaleState"), served by the
// AutoscaleCoordinator:
//   GET  /v1/services/{name}/autoscale          policy, mode, current/desired replicas, the
//                                               conditions, the last proposals and decisions
//   POST /v1/services/{name}/scale              {"replicas": N, "ttl": "30m"?}: a manual
//                                               override until the ttl ends (default 1h)
//   POST /v1/services/{name}/autoscale/pause    stop actuating (decisions are still recorded)
//   POST /v1/services/{name}/autoscale/resume
// Each POST answers 200 with the service's state. 404 for a service without an autoscale
// policy; 503 when the controller runs without the autoscaler.

#include "controller/api/api_types.h"

namespace noa::controller::api {

ApiResponse handleGetAutoscale(const ApiContext& context, const ApiRequest& request);
ApiResponse handleScaleService(const ApiContext& context, const ApiRequest& request);
ApiResponse handlePauseAutoscale(const ApiContext& context, const ApiRequest& request);
ApiResponse handleResumeAutoscale(const ApiContext& context, const ApiRequest& request);

}  // namespace noa::controller::api
