#pragma once

// GET /v1/audit[?since=&limit=&actor=]: the audit log, newest first (admin only: it names who
// did what).

#include <cstddef>

#include "controller/api/api_types.h"

namespace noa::controller::api {

inline constexpr size_t kAuditDefaultLimit = 100;
inline constexpr size_t kAuditMaxLimit = 10000;

ApiResponse handleListAudit(const ApiContext& context, const ApiRequest& request);

}  // namespace noa::controller::api
