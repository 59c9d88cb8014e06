#include "controller/commands/command_record.h"

#include "controller/store/json_record.h"

#include <array>
#include <cstdint>
#include <vector>

namespace noa::controller::commands {
namespace {

constexpr std::array<std::string_view, kCommandStateCount> kStateNames = {
    "pending", "sent", "acked", "running", "succeeded", "failed", "timed_out", "cancelled"};

// The record version in the store; a reader refuses a newer one it cannot understand.
constexpr int kRecordVersion = 1;

using nlohmann::json;

using Fields = JsonFields;

}  // namespace

std::string_view commandStateName(CommandState state) {
  return kStateNames[static_cast<size_t>(state)];
}

std::optional<CommandState> parseCommandState(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<CommandState>(i);
  }
  return std::nullopt;
}

bool isTerminal(CommandState state) {
  return state == CommandState::kSucceeded || state == CommandState::kFailed ||
         state == CommandState::kTimedOut || state == CommandState::kCancelled;
}

json commandToJson(const CommandRecord& r) {
  json j = {{"id", r.id},
            {"agent_id", r.agent_id},
            {"service", r.service},
            {"role", r.role},
            {"action", r.action},
            {"params", r.params},
            {"deadline_ms", r.deadline_ms},
            {"created_ms", r.created_ms},
            {"created_by", r.created_by},
            {"state", commandStateName(r.state)},
            {"attempts", r.attempts},
            {"last_sent_ms", r.last_sent_ms},
            {"cancel_requested", r.cancel_requested},
            {"cancel_sent_ms", r.cancel_sent_ms}};
  json history = json::array();
  for (const auto& h : r.history) {
    json item = {{"state", commandStateName(h.state)}, {"ts_ms", h.ts_ms}};
    if (!h.detail.empty()) item["detail"] = h.detail;
    history.push_back(std::move(item));
  }
  j["history"] = std::move(history);
  if (!r.origin.empty()) j["origin"] = r.origin;
  if (r.progress) {
    j["progress"] = {{"phase", r.progress->phase},
                     {"bytes_done", r.progress->bytes_done},
                     {"bytes_total_estimate", r.progress->bytes_total_estimate},
                     {"ts_ms", r.progress->ts_ms}};
  }
  if (r.result) {
    j["result"] = {{"status", r.result->status},         {"code", r.result->code},
                   {"error_code", r.result->error_code}, {"error", r.result->error},
                   {"output", r.result->output},         {"duration_ms", r.result->duration_ms}};
  }
  return j;
}

Result<CommandRecord> commandFromJson(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("command: expected an object");
  Fields f(j, "command");
  CommandRecord r;
  NOA_RETURN_IF_ERROR(f.str("id", r.id, true));
  NOA_RETURN_IF_ERROR(f.str("agent_id", r.agent_id, true));
  NOA_RETURN_IF_ERROR(f.str("service", r.service));
  NOA_RETURN_IF_ERROR(f.str("role", r.role));
  NOA_RETURN_IF_ERROR(f.str("action", r.action, true));
  if (const json* p = f.find("params")) {
    if (!p->is_object()) return f.wrong("params", "object");
    r.params = *p;
  }
  NOA_RETURN_IF_ERROR(f.integer("deadline_ms", r.deadline_ms));
  NOA_RETURN_IF_ERROR(f.integer("created_ms", r.created_ms));
  NOA_RETURN_IF_ERROR(f.str("created_by", r.created_by));
  NOA_RETURN_IF_ERROR(f.str("origin", r.origin));
  NOA_RETURN_IF_ERROR(f.name("state", r.state, parseCommandState, "state", true));
  NOA_RETURN_IF_ERROR(f.integer("attempts", r.attempts));
  NOA_RETURN_IF_ERROR(f.integer("last_sent_ms", r.last_sent_ms));
  NOA_RETURN_IF_ERROR(f.boolean("cancel_requested", r.cancel_requested));
  NOA_RETURN_IF_ERROR(f.integer("cancel_sent_ms", r.cancel_sent_ms));
  if (const json* h = f.find("history")) {
    if (!h->is_array()) return f.wrong("history", "array");
    for (size_t i = 0; i < h->size(); ++i) {
      const json& item = (*h)[i];
      if (!item.is_object()) return Status::InvalidArgument("command.history: expected objects");
      Fields hf(item, "command.history[" + std::to_string(i) + "]");
      CommandHistoryItem out;
      NOA_RETURN_IF_ERROR(hf.name("state", out.state, parseCommandState, "state", true));
      NOA_RETURN_IF_ERROR(hf.integer("ts_ms", out.ts_ms));
      NOA_RETURN_IF_ERROR(hf.str("detail", out.detail));
      r.history.push_back(std::move(out));
    }
  }
  if (const json* p = f.find("progress")) {
    if (!p->is_object()) return f.wrong("progress", "object");
    Fields pf(*p, "command.progress");
    CommandProgress out;
    NOA_RETURN_IF_ERROR(pf.str("phase", out.phase));
    NOA_RETURN_IF_ERROR(pf.integer("bytes_done", out.bytes_done));
    NOA_RETURN_IF_ERROR(pf.integer("bytes_total_estimate", out.bytes_total_estimate));
    NOA_RETURN_IF_ERROR(pf.integer("ts_ms", out.ts_ms));
    r.progress = std::move(out);
  }
  if (const json* res = f.find("result")) {
    if (!res->is_object()) return f.wrong("result", "object");
    Fields rf(*res, "command.result");
    CommandOutcome out;
    NOA_RETURN_IF_ERROR(rf.str("status", out.status, true));
    NOA_RETURN_IF_ERROR(rf.integer("code", out.code));
    NOA_RETURN_IF_ERROR(rf.str("error_code", out.error_code));
    NOA_RETURN_IF_ERROR(rf.str("error", out.error));
    if (const json* o = rf.find("output")) {
      if (!o->is_object()) return rf.wrong("output", "object");
      out.output = *o;
    }
    NOA_RETURN_IF_ERROR(rf.integer("duration_ms", out.duration_ms));
    r.result = std::move(out);
  }
  return r;
}

std::string encodeCommandRecord(const CommandRecord& record) {
  return encodeJsonRecord(commandToJson(record), kRecordVersion);
}

Result<CommandRecord> decodeCommandRecord(std::string_view bytes) {
  NOA_ASSIGN_OR_RETURN(json j, decodeJsonRecord(bytes, "command record", kRecordVersion));
  auto record = commandFromJson(j);
  if (!record.ok()) return Status::Corruption("command record: " + record.status().message());
  return std::move(record).value();
}

}  // namespace noa::controller::commands
