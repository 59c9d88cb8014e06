#pragma once

// One command of the command channel as the controller keeps it: what to run where, its state
// and every transition it went through. Stored in the `commands` column family, keyed by id
// (schemas/store.md, "commands").
//
// States: pending -> sent -> acked -> running -> succeeded | failed | timed_out | cancelled.
// The four last ones are terminal; see command_transition.h for the allowed moves.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace noa::controller::commands {

enum class CommandState {
  kPending,  // stored, not sent yet (or the agent is disconnected)
  kSent,     // handed to the agent's connection; not acknowledged yet
  kAcked,    // the agent has it (progress{state: accepted})
  kRunning,  // the agent started it
  kSucceeded,
  kFailed,  // includes "rejected" by the agent (unknown action, bad params)
  kTimedOut,
  kCancelled,
};

inline constexpr int kCommandStateCount = 8;

std::string_view commandStateName(CommandState state);  // "pending", "sent", ...
std::optional<CommandState> parseCommandState(std::string_view name);
bool isTerminal(CommandState state);

struct CommandHistoryItem {
  CommandState state = CommandState::kPending;
  int64_t ts_ms = 0;
  std::string detail;
  bool operator==(const CommandHistoryItem&) const = default;
};

struct CommandProgress {
  std::string phase;
  uint64_t bytes_done = 0;
  uint64_t bytes_total_estimate = 0;
  int64_t ts_ms = 0;  // controller wall clock when received
  bool operator==(const CommandProgress&) const = default;
};

struct CommandOutcome {
  std::string status;  // as the agent sent it: succeeded | failed | timed_out | ...
  int32_t code = 0;
  std::string error_code;  // stable code (invalid_params, busy, timeout, ...)
  std::string error;
  nlohmann::json output = nlohmann::json::object();
  uint64_t duration_ms = 0;
  bool operator==(const CommandOutcome&) const = default;
};

struct CommandRecord {
  std::string id;        // "cmd-<13-digit unix ms>-<6 hex>": unique, sorts by creation time
  std::string agent_id;  // the target, resolved at creation
  std::string service;   // the target agent's service (for listings)
  std::string role;      // the role asked for ("primary"), empty when addressed by agent id
  std::string action;
  nlohmann::json params = nlohmann::json::object();
  int64_t deadline_ms = 0;  // unix ms; 0 = none
  int64_t created_ms = 0;
  std::string created_by;
  // What the controller asked it for, when a policy did ("backup:postgres/nightly",
  // "drill:postgres", "retention:postgres/nightly", "verify:bk-...", "restore:bk-..."): how the
  // backup coordinator knows, also after a restart, what a finished command means. "" = a
  // person's command.
  std::string origin;
  CommandState state = CommandState::kPending;
  std::vector<CommandHistoryItem> history;  // every state change, oldest first
  uint32_t attempts = 0;                    // sends (the first one included)
  int64_t last_sent_ms = 0;
  bool cancel_requested = false;
  int64_t cancel_sent_ms = 0;  // last time the cancel was sent to the agent; 0 = not yet
  std::optional<CommandProgress> progress;
  std::optional<CommandOutcome> result;
  bool operator==(const CommandRecord&) const = default;
};

// The record as JSON (also the REST representation).
nlohmann::json commandToJson(const CommandRecord& record);
// InvalidArgument naming the field when `json` is not a command record.
Result<CommandRecord> commandFromJson(const nlohmann::json& json);

// Store encoding: MessagePack of commandToJson() plus a record version `rv`.
std::string encodeCommandRecord(const CommandRecord& record);
// Corruption naming the field when the bytes are not a command record.
Result<CommandRecord> decodeCommandRecord(std::string_view bytes);

}  // namespace noa::controller::commands
