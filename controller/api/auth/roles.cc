#include "controller/api/auth/roles.h"

namespace noa::controller::api {

std::string_view roleName(Role role) {
  switch (role) {
    case Role::kPublic:
      return "public";
    case Role::kViewer:
      return "viewer";
    case Role::kOperator:
      return "operator";
    case Role::kAdmin:
      return "admin";
  }
  return "public";
}

Result<Role> parseTokenRole(std::string_view text) {
  if (text == "viewer") return Role::kViewer;
  if (text == "operator") return Role::kOperator;
  if (text == "admin") return Role::kAdmin;
  return Status::InvalidArgument("unknown role '" + std::string(text) +
                                 "' (expected viewer, operator or admin)");
}

std::string_view authKindName(AuthKind kind) {
  switch (kind) {
    case AuthKind::kNone:
      return "none";
    case AuthKind::kStaticToken:
      return "static";
    case AuthKind::kJwt:
      return "jwt";
  }
  return "none";
}

}  // namespace noa::controller::api
