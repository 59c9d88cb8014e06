#include "controller/api/auth/authenticator.h"

#include <algorithm>
#include <cctype>

namespace noa::controller::api {

Result<Caller> Authenticator::authenticate(std::string_view authorization, WallTime now) const {
  if (authorization.empty()) return Status::Unauthenticated("no bearer token");
  constexpr std::string_view kScheme = "bearer ";
  const bool bearer =
      authorization.size() > kScheme.size() &&
      std::equal(kScheme.begin(), kScheme.end(), authorization.begin(),
                 [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
  if (!bearer) return Status::Unauthenticated("the Authorization header is not a Bearer token");
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return Status::Unauthenticated("empty bearer token");

  if (std::count(token.begin(), token.end(), '.') == 2) {
    if (!jwt_) return Status::Unauthenticated("JWTs are not accepted here");
    return jwt_->verify(token, now);
  }
  const StaticToken* found = findStaticToken(static_tokens_, token);
  if (found == nullptr) return Status::Unauthenticated("unknown token");
  return Caller{found->name, found->role, AuthKind::kStaticToken};
}

}  // namespace noa::controller::api
