#include "controller/api/audit_handler.h"

#include "controller/api/problem.h"
#include "controller/api/query_params.h"
#include "controller/audit/audit_log.h"

namespace noa::controller::api {

using nlohmann::json;

ApiResponse handleListAudit(const ApiContext& context, const ApiRequest& request) {
  PageQuery query;
  if (auto bad = parsePageQuery(request, kAuditDefaultLimit, kAuditMaxLimit, query)) return *bad;
  const std::string actor = request.queryParam("actor").value_or("");
  // An actor filter reads more than one page's worth so the page is full of that actor.
  const size_t read_limit = actor.empty() ? query.limit : kAuditMaxLimit;
  auto records = context.state.audit(query.since_ms, read_limit);
  if (!records.ok()) return problemFromStatus(records.status());
  json entries = json::array();
  for (const auto& record : *records) {
    const auto& e = record.entry;
    if (!actor.empty() && e.actor != actor) continue;
    if (entries.size() >= query.limit) break;
    entries.push_back({{"seq", record.seq},
                       {"ts", formatRfc3339(fromUnixMillis(e.ts_ms))},
                       {"actor", e.actor},
                       {"role", e.role},
                       {"method", e.method},
                       {"path", e.path},
                       {"route", e.route},
                       {"status", e.status},
                       {"detail", e.detail},
                       {"remote", e.remote}});
  }
  return jsonResponse(200, {{"entries", entries}});
}

}  // namespace noa::controller::api
