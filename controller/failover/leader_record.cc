#include "controller/failover/leader_record.h"

#include "controller/store/json_record.h"

namespace noa::controller::failover {
namespace {

using nlohmann::json;

constexpr int kRecordVersion = 1;
constexpr std::string_view kKeyPrefix = "leader/";

json historyToJson(const LeaderHistoryEntry& h) {
  return {{"epoch", h.epoch},   {"leader", h.leader}, {"since_ms", h.since_ms},
          {"reason", h.reason}, {"kind", h.kind},     {"previous", h.previous},
          {"position", h.position}};
}

Status historyFromJson(const JsonFields& f, LeaderHistoryEntry& h) {
  NOA_RETURN_IF_ERROR(f.integer("epoch", h.epoch));
  NOA_RETURN_IF_ERROR(f.str("leader", h.leader));
  NOA_RETURN_IF_ERROR(f.integer("since_ms", h.since_ms));
  NOA_RETURN_IF_ERROR(f.str("reason", h.reason));
  NOA_RETURN_IF_ERROR(f.str("kind", h.kind));
  NOA_RETURN_IF_ERROR(f.str("previous", h.previous));
  return f.str("position", h.position);
}

json transitionToJson(const Transition& t) {
  return {{"kind", transitionKindName(t.kind)},
          {"phase", phaseName(t.phase)},
          {"from", t.from},
          {"fence_target", t.fence_target},
          {"candidate", t.candidate},
          {"candidate_fixed", t.candidate_fixed},
          {"candidate_armed", t.candidate_armed},
          {"reason", t.reason},
          {"started_ms", t.started_ms},
          {"phase_started_ms", t.phase_started_ms},
          {"fence_command", t.fence_command},
          {"promote_command", t.promote_command},
          {"fenced_position", t.fenced_position},
          {"tried", t.tried}};
}

Status transitionFromJson(const JsonFields& f, Transition& t) {
  NOA_RETURN_IF_ERROR(f.name("kind", t.kind, parseTransitionKind, "transition kind", true));
  NOA_RETURN_IF_ERROR(f.name("phase", t.phase, parsePhase, "phase", true));
  NOA_RETURN_IF_ERROR(f.str("from", t.from));
  NOA_RETURN_IF_ERROR(f.str("fence_target", t.fence_target));
  NOA_RETURN_IF_ERROR(f.str("candidate", t.candidate));
  NOA_RETURN_IF_ERROR(f.boolean("candidate_fixed", t.candidate_fixed));
  NOA_RETURN_IF_ERROR(f.boolean("candidate_armed", t.candidate_armed));
  NOA_RETURN_IF_ERROR(f.str("reason", t.reason));
  NOA_RETURN_IF_ERROR(f.integer("started_ms", t.started_ms));
  NOA_RETURN_IF_ERROR(f.integer("phase_started_ms", t.phase_started_ms));
  NOA_RETURN_IF_ERROR(f.str("fence_command", t.fence_command));
  NOA_RETURN_IF_ERROR(f.str("promote_command", t.promote_command));
  NOA_RETURN_IF_ERROR(f.str("fenced_position", t.fenced_position));
  if (const json* tried = f.find("tried")) {
    if (!tried->is_array()) return f.wrong("tried", "array");
    for (const json& name : *tried) {
      if (!name.is_string()) return f.wrong("tried", "array of strings");
      t.tried.push_back(name.get<std::string>());
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view transitionKindName(TransitionKind kind) {
  switch (kind) {
    case TransitionKind::kAutomatic: return "automatic";
    case TransitionKind::kSwitchover: return "switchover";
    case TransitionKind::kForced: return "forced";
  }
  return "automatic";
}

std::optional<TransitionKind> parseTransitionKind(std::string_view name) {
  if (name == "automatic") return TransitionKind::kAutomatic;
  if (name == "switchover") return TransitionKind::kSwitchover;
  if (name == "forced") return TransitionKind::kForced;
  return std::nullopt;
}

std::string_view phaseName(Phase phase) {
  switch (phase) {
    case Phase::kFence: return "fence";
    case Phase::kCatchup: return "catchup";
    case Phase::kPromote: return "promote";
  }
  return "fence";
}

std::optional<Phase> parsePhase(std::string_view name) {
  if (name == "fence") return Phase::kFence;
  if (name == "catchup") return Phase::kCatchup;
  if (name == "promote") return Phase::kPromote;
  return std::nullopt;
}

json leaderToJson(const LeaderRecord& r) {
  json history = json::array();
  for (const auto& h : r.history) history.push_back(historyToJson(h));
  json j = {{"service", r.service}, {"leader", r.leader},   {"epoch", r.epoch},
            {"since_ms", r.since_ms}, {"paused", r.paused}, {"paused_reason", r.paused_reason},
            {"history", history}};
  j["transition"] = r.transition ? transitionToJson(*r.transition) : json();
  return j;
}

Result<LeaderRecord> leaderFromJson(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("leader: expected an object");
  JsonFields f(j, "leader");
  LeaderRecord r;
  NOA_RETURN_IF_ERROR(f.str("service", r.service, true));
  NOA_RETURN_IF_ERROR(f.str("leader", r.leader));
  NOA_RETURN_IF_ERROR(f.integer("epoch", r.epoch));
  NOA_RETURN_IF_ERROR(f.integer("since_ms", r.since_ms));
  NOA_RETURN_IF_ERROR(f.boolean("paused", r.paused));
  NOA_RETURN_IF_ERROR(f.str("paused_reason", r.paused_reason));
  Status error = Status::Ok();
  if (const json* t = f.object("transition", error)) {
    Transition transition;
    NOA_RETURN_IF_ERROR(transitionFromJson(JsonFields(*t, "leader.transition"), transition));
    r.transition = std::move(transition);
  }
  NOA_RETURN_IF_ERROR(error);
  NOA_RETURN_IF_ERROR(f.array("history", [&](const JsonFields& item) {
    LeaderHistoryEntry h;
    NOA_RETURN_IF_ERROR(historyFromJson(item, h));
    r.history.push_back(std::move(h));
    return Status::Ok();
  }));
  return r;
}

Result<std::vector<LeaderRecord>> loadLeaderRecords(const Store& store) {
  NOA_ASSIGN_OR_RETURN(auto rows, store.scan(Family::kDesired, kKeyPrefix, SIZE_MAX));
  std::vector<LeaderRecord> out;
  for (const auto& [key, value] : rows) {
    NOA_ASSIGN_OR_RETURN(json j, decodeJsonRecord(value, key, kRecordVersion));
    auto record = leaderFromJson(j);
    if (!record.ok()) return Status::Corruption(key + ": " + record.status().message());
    out.push_back(std::move(*record));
  }
  return out;
}

Status saveLeaderRecord(Store& store, const LeaderRecord& record) {
  LeaderRecord trimmed = record;
  if (trimmed.history.size() > kMaxHistory) {
    trimmed.history.erase(trimmed.history.begin(),
                          trimmed.history.end() - static_cast<std::ptrdiff_t>(kMaxHistory));
  }
  Store::Batch batch;
  batch.put(Family::kDesired, std::string(kKeyPrefix) + record.service,
            encodeJsonRecord(leaderToJson(trimmed), kRecordVersion));
  return store.commit(batch, /*sync=*/true);
}

}  // namespace noa::controller::failover
