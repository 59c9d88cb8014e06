#pragma once

// noactl tables for the admin resources: agent keys (GET /v1/keys, POST /v1/keys/{id}/...) and
// the audit log (GET /v1/audit). Same conventions as tables.h: a response of the wrong shape is
// InvalidArgument, a missing or null field shows as "-".

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace noa::cli {

// {"keys": [Key...]} as KEY-ID STATE AGENT CLAIMED ADDRESS LAST-SEEN ATTEMPTS. CLAIMED is what
// the agent said it is ("AGENT service@host"); LAST-SEEN an age.
Result<std::string> renderKeys(const nlohmann::json& body, int64_t now_ms);
// One Key (the answer of accept / reject / revoke) as the same table with one row.
Result<std::string> renderKey(const nlohmann::json& key, int64_t now_ms);
// {"entries": [...]} as TIME ACTOR ROLE METHOD PATH STATUS DETAIL.
Result<std::string> renderAudit(const nlohmann::json& body);

}  // namespace noa::cli
