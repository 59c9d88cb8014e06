#include "controller/api/services_handler.h"

#include <algorithm>
#include <map>

#include "controller/api/agent_json.h"

namespace noa::controller::api {

using nlohmann::json;

json servicesJson(const std::vector<AgentRecord>& agents) {
  std::map<std::string, std::vector<const AgentRecord*>> by_service;
  for (const AgentRecord& agent : agents) by_service[agent.hello.service].push_back(&agent);

  json services = json::array();
  for (auto& [name, members] : by_service) {
    std::sort(members.begin(), members.end(), [](const AgentRecord* a, const AgentRecord* b) {
      return a->hello.agent_id < b->hello.agent_id;
    });
    size_t alive = 0, suspect = 0, lost = 0, healthy = 0, ready = 0;
    std::string kind = members.front()->hello.kind;
    json member_list = json::array();
    for (const AgentRecord* agent : members) {
      switch (agent->liveness) {
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
      const std::string health = healthState(*agent);
      if (agent->liveness != Liveness::kLost) {
        if (health == "healthy") ++healthy;
        if (agent->has_report && agent->last_report.health.ready) ++ready;
      }
      if (agent->hello.kind != kind) kind = "mixed";
      member_list.push_back({{"id", agent->hello.agent_id},
                             {"state", livenessName(agent->liveness)},
                             {"health", health},
                             {"role", agent->has_report ? agent->last_report.role : ""},
                             {"host", agent->hello.host}});
    }
    services.push_back({{"name", name},
                        {"kind", kind},
                        {"agents", members.size()},
                        {"alive", alive},
                        {"suspect", suspect},
                        {"lost", lost},
                        {"healthy", healthy},
                        {"ready", ready},
                        {"members", std::move(member_list)}});
  }
  return {{"services", std::move(services)}};
}

ApiResponse handleListServices(const ApiContext& context, const ApiRequest& /*request*/) {
  return jsonResponse(200, servicesJson(context.state.agents()));
}

}  // namespace noa::controller::api
