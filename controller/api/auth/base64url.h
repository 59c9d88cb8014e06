#pragma once

// base64url (RFC 4648 section 5) without padding, as JWTs and our random tokens use it.

#include <optional>
#include <string>
#include <string_view>

namespace noa::controller::api {

std::string base64UrlEncode(std::string_view bytes);
// nullopt for characters outside the alphabet or an impossible length. Padding is tolerated.
std::optional<std::string> base64UrlDecode(std::string_view text);

}  // namespace noa::controller::api
