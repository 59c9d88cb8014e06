// See rest_bodies.h: the handler file is included for its anonymous-namespace parsers.
#include "controller/api/backups_handler.cc"
#include "tests/fuzz/rest_bodies/rest_bodies.h"

namespace noa::controller::api::fuzz {

std::optional<ApiResponse> backupsServiceBody(const std::string& body, bool policy_allowed) {
  std::string service, policy;
  return parseServiceBody(body, policy_allowed, service, policy);
}

std::optional<ApiResponse> backupsRestoreBody(const std::string& body) {
  std::string target_db;
  bool swap = false;
  return parseRestoreBody(body, target_db, swap);
}

std::optional<ApiResponse> backupsPinBody(const std::string& body) {
  bool pinned = true;
  return parsePinBody(body, pinned);
}

}  // namespace noa::controller::api::fuzz
