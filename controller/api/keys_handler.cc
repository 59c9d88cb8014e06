#include "controller/api/keys_handler.h"

#include "controller/api/problem.h"
#include "controller/security/key_registry.h"

namespace noa::controller::api {
namespace {

using nlohmann::json;

json timeOrNull(int64_t ms) {
  return ms > 0 ? json(formatRfc3339(fromUnixMillis(ms))) : json(nullptr);
}

json stringOrNull(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

json keyJson(const KeyRecord& key) {
  json claimed = nullptr;
  if (!key.claimed_agent_id.empty()) {
    claimed = {{"agent_id", key.claimed_agent_id},
               {"service", key.claimed_service},
               {"host", key.claimed_host}};
  }
  return {{"key_id", key.key_id},
          {"public_key", key.public_key},
          {"state", keyStateName(key.state)},
          {"agent_id", stringOrNull(key.agent_id)},
          {"claimed", claimed},
          {"address", key.address},
          {"first_seen", timeOrNull(key.first_seen_ms)},
          {"last_seen", timeOrNull(key.last_seen_ms)},
          {"attempts", key.attempts},
          {"source", key.source},
          {"changed_at", timeOrNull(key.changed_at_ms)},
          {"changed_by", stringOrNull(key.changed_by)}};
}

ApiResponse enrollmentOff() {
  return problem(409, "agent keys are not in use: this controller runs with --insecure-plaintext");
}

ApiResponse answer(const Result<KeyRecord>& changed) {
  if (changed.ok()) return jsonResponse(200, keyJson(*changed));
  if (changed.status().code() == StatusCode::kFailedPrecondition) {
    return problem(409, changed.status().message());
  }
  return problemFromStatus(changed.status());
}

// The caller's name for the audit trail and the key's changed_by.
std::string actorOf(const ApiRequest& request) {
  return request.caller.actor.empty() ? std::string("anonymous") : request.caller.actor;
}

}  // namespace

ApiResponse handleListKeys(const ApiContext& context, const ApiRequest& request) {
  (void)request;
  KeyRegistry* keys = context.state.keys();
  if (keys == nullptr) return jsonResponse(200, {{"keys", json::array()}, {"enrollment", "off"}});
  json out = json::array();
  for (const KeyRecord& key : keys->list()) out.push_back(keyJson(key));
  return jsonResponse(200, {{"keys", out}, {"enrollment", "on"}});
}

ApiResponse handleAcceptKey(const ApiContext& context, const ApiRequest& request) {
  KeyRegistry* keys = context.state.keys();
  if (keys == nullptr) return enrollmentOff();
  std::string agent_id;
  if (!request.body.empty()) {
    json body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return problem(400, "the body must be a JSON object such as {\"agent_id\": \"redis-1\"}");
    }
    for (const auto& [name, value] : body.items()) {
      if (name != "agent_id") return problem(400, "unknown field '" + name + "' (only agent_id)");
      if (!value.is_string()) return problem(400, "agent_id must be a string");
      agent_id = value.get<std::string>();
    }
  }
  return answer(keys->accept(request.path_params.at("id"), agent_id, actorOf(request)));
}

ApiResponse handleRejectKey(const ApiContext& context, const ApiRequest& request) {
  KeyRegistry* keys = context.state.keys();
  if (keys == nullptr) return enrollmentOff();
  return answer(keys->reject(request.path_params.at("id"), actorOf(request)));
}

ApiResponse handleRevokeKey(const ApiContext& context, const ApiRequest& request) {
  KeyRegistry* keys = context.state.keys();
  if (keys == nullptr) return enrollmentOff();
  return answer(keys->revoke(request.path_params.at("id"), actorOf(request)));
}

}  // namespace noa::controller::api
