#pragma once

// The access check between routing and the handler: who is calling (401 when a route needs a
// token and the request has no valid one), whether their role suffices (403 naming the role
// needed), and, for mutating routes, the caller's rate limit (429 with Retry-After). Answers are
// problem+json; none of them quotes the token.

#include <optional>

#include "controller/api/api_types.h"
#include "controller/api/routes.h"

namespace noa::controller::api {

// nullopt when the request may go to the handler; `caller` is set either way when known.
std::optional<ApiResponse> checkAccess(const ApiContext& context, const Route& route,
                                       const ApiRequest& request, Caller& caller);

}  // namespace noa::controller::api
