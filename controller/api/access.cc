#include "controller/api/access.h"

#include "controller/api/auth/authenticator.h"
#include "controller/api/auth/rate_limiter.h"
#include "controller/api/problem.h"

namespace noa::controller::api {
namespace {

ApiResponse unauthorized(const Status& why, bool token_presented) {
  ApiResponse res = problem(401, "a valid bearer token is required: " + why.message());
  // RFC 6750 section 3: say that the token was the problem when there was one.
  res.headers.emplace_back("WWW-Authenticate", token_presented
                                                   ? "Bearer realm=\"noa\", error=\"invalid_token\""
                                                   : "Bearer realm=\"noa\"");
  return res;
}

}  // namespace

std::optional<ApiResponse> checkAccess(const ApiContext& context, const Route& route,
                                       const ApiRequest& request, Caller& caller) {
  if (route.role == Role::kPublic) return std::nullopt;
  if (context.authenticator == nullptr) {
    caller = Caller{"anonymous", Role::kAdmin, AuthKind::kNone};
  } else {
    auto authenticated =
        context.authenticator->authenticate(request.authorization, context.clock.wallNow());
    if (!authenticated.ok())
      return unauthorized(authenticated.status(), !request.authorization.empty());
    caller = *authenticated;
  }
  if (caller.role < route.role) {
    return problem(403, std::string(route.method) + " " + std::string(route.path) + " needs the " +
                            std::string(roleName(route.role)) + " role; '" + caller.actor +
                            "' has " + std::string(roleName(caller.role)));
  }
  if (route.mutates() && context.limiter != nullptr) {
    if (auto wait = context.limiter->acquire(caller.actor)) {
      ApiResponse res = problem(429, "too many changes from '" + caller.actor + "'; retry in " +
                                         std::to_string(wait->count()) + "s");
      res.headers.emplace_back("Retry-After", std::to_string(wait->count()));
      return res;
    }
  }
  return std::nullopt;
}

}  // namespace noa::controller::api
