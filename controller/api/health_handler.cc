#include "controller/api/health_handler.h"

#include "controller/api/agent_json.h"

namespace noa::controller::api {

ApiResponse handleHealth(const ApiContext& context, const ApiRequest& /*request*/) {
  const ControllerInfo info = context.state.info();
  size_t alive = 0, suspect = 0, lost = 0;
  const std::vector<AgentRecord> agents = context.state.agents();
  for (const AgentRecord& agent : agents) {
    switch (agent.liveness) {
      case Liveness::kAlive:
        ++alive;
        break;
      case Liveness::kSuspect:
        ++suspect;
        break;
      case Liveness::kLost:
        ++lost;
        break;
    }
  }
  const int64_t now_ms = toUnixMillis(context.clock.wallNow());
  const int64_t uptime_s = std::max<int64_t>(0, (now_ms - info.started_at_ms) / 1000);
  const bool store_ok = info.store_health.ok();
  nlohmann::json store = {{"status", store_ok ? "ok" : "error"}};
  if (!store_ok) store["error"] = info.store_health.toString();
  const nlohmann::json body = {
      {"status", store_ok ? "ok" : "degraded"},
      {"version", info.version},
      {"controller_id", info.controller_id},
      {"started_at", timestampJson(info.started_at_ms)},
      {"uptime_s", uptime_s},
      {"store", std::move(store)},
      {"agents",
       {{"total", agents.size()}, {"alive", alive}, {"suspect", suspect}, {"lost", lost}}},
      {"liveness",
       {{"report_interval_ms", info.report_interval_ms},
        {"suspect_after_intervals", info.suspect_after_intervals},
        {"lost_after_intervals", info.lost_after_intervals}}},
      {"agent_endpoint", info.zmq_endpoint}};
  return jsonResponse(store_ok ? 200 : 503, body);
}

}  // namespace noa::controller::api
