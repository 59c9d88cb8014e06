// REST half of TestCredentials: one static bearer token per role. The controller gets a tokens
// file of `NAME ROLE SHA256HEX` lines, noactl a --token-file per role. The tokens are fixed (the
// hashes below are their SHA-256), so the harness needs no crypto library; they are test data,
// never valid anywhere else.
#include <sys/stat.h>

#include <fstream>

#include "tests/testing/harness/test_credentials.h"

namespace noa::testing {
namespace {

struct RoleToken {
  const char* role;
  const char* token;
  const char* sha256;
};

constexpr RoleToken kTokens[] = {
    {"viewer", "noa-test-viewer-token-5f1c9e27a3b84d06",
     "533948b05d62679b05fe7ce678fabe4a91d58f1e17ab1de750eb2c1854f5225a"},
    {"operator", "noa-test-operator-token-5f1c9e27a3b84d06",
     "6ff641280d3b4024a76d395451557570adb2436b43996884be56325907bc1876"},
    {"admin", "noa-test-admin-token-5f1c9e27a3b84d06",
     "0a925b51e1f5f571a42c2025ea3c8a8dcdf267c909aa83a02b6f9f67da744e86"},
};

Status writePrivate(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::IoError("cannot write " + path);
  chmod(path.c_str(), 0600);
  return Status::Ok();
}

}  // namespace

Status TestCredentials::createRest() {
  std::string lines = "# test tokens: NAME ROLE SHA256HEX\n";
  for (const RoleToken& t : kTokens) {
    lines += std::string("test-") + t.role + " " + t.role + " " + t.sha256 + "\n";
    NOA_RETURN_IF_ERROR(writePrivate(dir_ + "/" + t.role + ".token", std::string(t.token) + "\n"));
  }
  NOA_RETURN_IF_ERROR(writePrivate(dir_ + "/api-tokens", lines));
  viewer_token_ = kTokens[0].token;
  operator_token_ = kTokens[1].token;
  admin_token_ = kTokens[2].token;
  return Status::Ok();
}

std::vector<std::string> TestCredentials::restControllerArgs() const {
  return {"--api-tokens-file", dir_ + "/api-tokens"};
}

std::vector<std::string> TestCredentials::noactlArgs(const std::string& role) const {
  const std::string known = role == "viewer" || role == "operator" ? role : "admin";
  return {"--token-file", dir_ + "/" + known + ".token"};
}

}  // namespace noa::testing
