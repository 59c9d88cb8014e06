#include "agent/runtime/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace noa::agent {

Status dropPrivilegesTo(const std::string& user) {
  std::vector<char> buffer(16384);
  struct passwd entry {};
  struct passwd* found = nullptr;
  const int rc = getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0 || found == nullptr) {
    return Status::NotFound("--run-as: no user '" + user + "' on this machine");
  }
  if (geteuid() != 0) {
    if (geteuid() == found->pw_uid) return Status::Ok();  // already that user
    return Status::PermissionDenied("--run-as " + user + " needs the agent to start as root");
  }
  // Groups first: after setuid there is no privilege left to change them.
  if (initgroups(found->pw_name, found->pw_gid) != 0 || setgid(found->pw_gid) != 0 ||
      setuid(found->pw_uid) != 0) {
    return Status::PermissionDenied("--run-as " + user + ": " + std::strerror(errno));
  }
  if (setuid(0) == 0) {
    return Status::PermissionDenied("--run-as " + user + ": root could be regained; refusing");
  }
  return Status::Ok();
}

}  // namespace noa::agent
