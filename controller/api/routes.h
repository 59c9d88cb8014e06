#pragma once

// The route table: every REST route with its method, path template, the least role that may
// call it, and a one-line summary. schemas/openapi.yaml describes the same routes, each with its
// role as `x-noa-role` (a test checks both). Adding a row is all a new route needs: the access
// check, the rate limit and the audit trail follow from the row. A route mutates iff its method
// is not GET; mutating routes need at least the operator role (a test checks it).

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "controller/api/api_types.h"

namespace noa::controller::api {

using RouteHandler = ApiResponse (*)(const ApiContext& context, const ApiRequest& request);

struct Route {
  std::string_view method;  // "GET", ...
  std::string_view path;    // "/v1/agents/{id}": a {name} matches one non-empty path segment
  Role role;                // the least role that may call it; kPublic needs no token
  std::string_view summary;
  RouteHandler handler;

  // Mutating routes are rate limited per actor and recorded in the audit trail.
  bool mutates() const { return method != "GET"; }
};

std::span<const Route> routeTable();

// Matches a concrete path against a template; on success fills `params` ({name} -> segment).
bool matchPath(std::string_view pattern, std::string_view path,
               std::map<std::string, std::string>* params);

struct RouteMatch {
  const Route* route = nullptr;  // the route for this method and path
  std::map<std::string, std::string> params;
  std::vector<std::string_view> allow;  // methods the path supports (HEAD with GET)
};

// HEAD is served by the GET route. No route and an empty `allow` means an unknown path; no
// route and a non-empty `allow` means a wrong method.
// `routes` is the production table except in tests that need routes it does not have yet.
RouteMatch findRoute(std::string_view method, std::string_view path,
                     std::span<const Route> routes = routeTable());

// Label for metrics: the matching route's template, or "unmatched" (keeps cardinality bounded).
std::string_view routeLabel(std::string_view path, std::span<const Route> routes = routeTable());

struct Dispatched {
  ApiResponse response;
  const Route* route = nullptr;  // null for 404 / 405
  Caller caller;                 // "anonymous" unless a token was checked and accepted
};

// Routes the request: 404 for an unknown path, 405 with Allow for a wrong method, then the
// access check (checkAccess: 401 / 403 / 429), then the route's handler, which sees the caller
// in request.caller.
Dispatched dispatchRequest(const ApiContext& context, ApiRequest request,
                           std::span<const Route> routes = routeTable());
inline ApiResponse dispatch(const ApiContext& context, ApiRequest request,
                            std::span<const Route> routes = routeTable()) {
  return dispatchRequest(context, std::move(request), routes).response;
}

}  // namespace noa::controller::api
