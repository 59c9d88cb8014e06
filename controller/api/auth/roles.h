#pragma once

// Who may call a REST route. Roles are ordered: each one may do everything the ones below it
// may. `public` is for routes probes and scrapers must reach without a token (GET /v1/health,
// GET /metrics); it is never a caller's role in a token.

#include <string>
#include <string_view>

#include "common/status.h"

namespace noa::controller::api {

enum class Role { kPublic = 0, kViewer = 1, kOperator = 2, kAdmin = 3 };

// "public", "viewer", "operator", "admin".
std::string_view roleName(Role role);
// A role a token may carry: viewer | operator | admin (not public). InvalidArgument otherwise.
Result<Role> parseTokenRole(std::string_view text);

// How the caller proved who it is.
enum class AuthKind { kNone, kStaticToken, kJwt };
std::string_view authKindName(AuthKind kind);

// The authenticated caller of one request. `actor` is the token's NAME or the JWT's `sub`;
// "anonymous" when the request carried no valid token.
struct Caller {
  std::string actor = "anonymous";
  Role role = Role::kPublic;
  AuthKind kind = AuthKind::kNone;
};

}  // namespace noa::controller::api
