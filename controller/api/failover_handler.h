#pragma once

// Failover over REST (schemas/openapi.yaml, "Failover"), served by the FailoverCoordinator:
//   GET  /v1/services/{name}/primary     the leader: member, endpoint, epoch, lease; 404 when the
//                                        service has no serving primary (clients retry)
//   GET  /v1/services/{name}/failover    leader record, transition in progress, members
//   GET  /v1/services/{name}/history     the timeline of leaders with reasons, newest first
//   POST /v1/services/{name}/switchover  {"to"?}: planned, zero loss -> 202 with the state
//   POST /v1/services/{name}/failover    {"to"}: forced (may lose unreplicated writes) -> 202
//   POST /v1/services/{name}/pause       {"reason"?}: no automatic failover -> 200
//   POST /v1/services/{name}/resume      -> 200
//   GET  /v1/decisions                   decision records, newest first; service=, kind=,
//                                        since= (RFC 3339 or unix ms), limit= (1..1000)
// 409 when the state forbids the operation (a transition in progress, no serving leader for a
// switchover), with the reason; 503 when the controller runs without failover.

#include "controller/api/api_types.h"

namespace noa::controller::api {

ApiResponse handleGetPrimary(const ApiContext& context, const ApiRequest& request);
ApiResponse handleGetFailover(const ApiContext& context, const ApiRequest& request);
ApiResponse handleLeaderHistory(const ApiContext& context, const ApiRequest& request);
ApiResponse handleSwitchover(const ApiContext& context, const ApiRequest& request);
ApiResponse handleForceFailover(const ApiContext& context, const ApiRequest& request);
ApiResponse handlePauseFailover(const ApiContext& context, const ApiRequest& request);
ApiResponse handleResumeFailover(const ApiContext& context, const ApiRequest& request);
ApiResponse handleListDecisions(const ApiContext& context, const ApiRequest& request);

}  // namespace noa::controller::api
