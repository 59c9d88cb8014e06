#pragma once

// The route table: every REST route with its method, path template, whether it changes state,
// and a one-line summary. schemas/openapi.yaml describes the same routes (a test checks it).
// Mutating routes will need the operator role once auth lands; there are none yet.

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
  bool mutates;
  std::string_view summary;
  RouteHandler handler;
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
RouteMatch findRoute(std::string_view method, std::string_view path);

// Label for metrics: the matching route's template, or "unmatched" (keeps cardinality bounded).
std::string_view routeLabel(std::string_view path);

// Routes the request: 404 for an unknown path, 405 with Allow for a wrong method, otherwise
// the route's handler.
ApiResponse dispatch(const ApiContext& context, ApiRequest request);

}  // namespace noa::controller::api
