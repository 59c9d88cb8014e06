#pragma once

// Static bearer tokens: a file of `NAME ROLE SHA256HEX` lines ('#' starts a comment). The file
// holds the SHA-256 of each token, never the token, so reading it (or a backup of it) does not
// let anyone call the API; tokens are 32 random bytes, so an unsalted hash is enough. Presented
// tokens are hashed and compared in constant time against every line.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "controller/api/auth/roles.h"

namespace noa::controller::api {

using Sha256 = std::array<uint8_t, 32>;

struct StaticToken {
  std::string name;  // the actor in logs and the audit trail
  Role role = Role::kViewer;
  Sha256 hash{};
};

Sha256 sha256(std::string_view data);
std::string toHex(const Sha256& digest);

// A valid token NAME: 1-64 of [A-Za-z0-9._@-].
bool validTokenName(std::string_view name);

// Parses the file's text; `file` names it in errors ("FILE:LINE: why"). Duplicate names are an
// error: the audit trail must tell callers apart.
Result<std::vector<StaticToken>> parseTokensFile(std::string_view text, const std::string& file);
Result<std::vector<StaticToken>> loadTokensFile(const std::string& path);

// The token whose hash matches, or nullptr. Looks at every entry whatever matches first.
const StaticToken* findStaticToken(const std::vector<StaticToken>& tokens, std::string_view token);

// 32 bytes from the OpenSSL CSPRNG, base64url without padding (43 characters).
Result<std::string> generateToken();

// `noa-controller token new`: appends "NAME ROLE SHA256HEX" for `token` to `path` (created 0600
// when missing). Refuses a name already in the file and a file that does not parse.
Status appendStaticToken(const std::string& path, const std::string& name, Role role,
                         std::string_view token);

}  // namespace noa::controller::api
