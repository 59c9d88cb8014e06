#pragma once

// Dropping root: the agent is started as root only where a platform makes that the easy path
// (a demo, a host service); it gives the privilege up before it reads or opens anything.

#include <string>

#include "common/status.h"

namespace noa::agent {

// Switches the process to `user` (its uid, primary gid and supplementary groups) for good:
// afterwards setuid(0) must fail, which is checked. NotFound for an unknown user,
// PermissionDenied when not running as root (or the switch is refused).
Status dropPrivilegesTo(const std::string& user);

}  // namespace noa::agent
