#pragma once

// Protocol v1 between noa-agent and noa-controller: one struct per message type, carried in an
// Envelope {v, type, id, ts, from, body}. Written down in schemas/protocol-v1.md and
// schemas/protocol-v1.schema.json; golden vectors in schemas/vectors/.
//
// Compatibility rules: unknown keys are ignored, missing optional keys take the defaults below,
// a different major version `v` is refused with a clear error. Adding an optional key is a
// minor change and does not bump `v`.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace noa::protocol {

inline constexpr uint32_t kProtocolMajor = 1;

enum class MessageType { kHello, kWelcome, kReport, kAck, kCommand, kProgress, kResult, kBye };

std::string_view messageTypeName(MessageType type);  // "hello", "welcome", ...
std::optional<MessageType> parseMessageType(std::string_view name);

// Typed parameter/output values of commands and results.
using Value = std::variant<std::monostate, bool, int64_t, double, std::string>;
using ValueMap = std::map<std::string, Value>;

// agent -> controller, first message of every session.
struct Hello {
  std::string agent_id;  // also the ZeroMQ routing id; [A-Za-z0-9._-]{1,64}
  std::string service;   // logical service name, e.g. "postgres"
  std::string kind;      // "postgres" | "redis" | "llama" | "http" | "generic"
  std::string host;
  std::string agent_version;
  std::vector<std::string> capabilities;  // action names the agent can run
  int64_t pid = 0;
  uint32_t report_interval_ms = 1000;  // the agent's own interval
  bool operator==(const Hello&) const = default;
};

// controller -> agent, answer to hello.
struct Welcome {
  std::string agent_id;
  std::string controller_id;
  uint32_t report_interval_ms = 1000;  // the interval the controller expects
  int64_t server_time_ms = 0;
  bool operator==(const Welcome&) const = default;
};

// One probe's state inside a report.
struct ProbeState {
  std::string name;   // e.g. "liveness"
  std::string kind;   // "liveness" | "readiness" | "startup" | "check"
  std::string state;  // "success" | "failure" | "unknown"
  uint32_t consecutive_successes = 0;
  uint32_t consecutive_failures = 0;
  uint32_t latency_us = 0;  // of the last attempt
  std::string detail;       // last error or short result, capped at 256 bytes
  bool operator==(const ProbeState&) const = default;
};

struct Health {
  std::string state = "unknown";  // "healthy" | "unhealthy" | "starting" | "unknown"
  bool live = false;
  bool ready = false;
  bool started = false;
  std::vector<ProbeState> probes;
  bool operator==(const Health&) const = default;
};

struct Metric {
  std::string name;
  double value = 0;
  bool operator==(const Metric&) const = default;
};

// agent -> controller, every interval and at once when a probe changes state. Also the
// agent's application heartbeat.
struct Report {
  uint64_t seq = 0;  // strictly increasing per agent process run
  Health health;
  std::string role;  // "" | "primary" | "replica" (replicated services)
  std::vector<Metric> metrics;
  std::map<std::string, std::string> attributes;  // small facts: "lsn", "timeline", ...
  bool operator==(const Report&) const = default;
};

// controller -> agent, answer to every report, hello-less report, progress and result. Also
// the controller's application heartbeat. `error` empty means accepted.
struct Ack {
  std::string ref;    // envelope id being acknowledged
  uint64_t seq = 0;   // highest report seq stored for this agent
  std::string error;  // "" | "hello_required" | "rejected" | "store_unavailable"
  std::string detail;
  // Optional (added with the command channel). Set only on the ack of a `result`: that
  // command's result is stored (or, with error "rejected", never will be), so the agent drops it
  // from its spool.
  std::string command_id;
  // Optional (added with failover). Set on the ack of a report from the agent that holds its
  // service's leader lease: the lease runs `lease_ms` from when the agent SENT the acked report
  // (so the agent's deadline is never later than the controller's). `leader_epoch` names the
  // leadership term. An ack without them grants nothing.
  uint32_t lease_ms = 0;
  uint64_t leader_epoch = 0;
  bool operator==(const Ack&) const = default;
};

// controller -> agent. Delivered at least once: the agent dedupes by command_id.
struct Command {
  std::string command_id;
  std::string action;  // a name from the agent's capabilities
  ValueMap params;
  int64_t deadline_ms = 0;  // unix ms; 0 = none
  // Optional keys added with the command channel; like every optional key added later, they
  // are written only when not default, so the bytes of older messages are unchanged.
  // Parameters that are not scalars (lists, nested objects), as the text of one JSON object;
  // merged with `params` (a key in both is refused). See command_params.h.
  std::string params_json;
  // Cancel the command `command_id` (action and params are those of the original command).
  bool cancel = false;
  bool operator==(const Command&) const = default;
};

// agent -> controller: the command was received, started, or moved on (long actions, every
// 1-2 s at most).
struct Progress {
  std::string command_id;
  std::string phase;
  uint64_t bytes_done = 0;
  uint64_t bytes_total_estimate = 0;
  // Optional (added with the command channel): "accepted" (received and queued: the
  // controller's sent -> acked) or "running" (the default, and the only meaning before).
  std::string state = "running";
  bool operator==(const Progress&) const = default;
};

inline constexpr const char* kProgressAccepted = "accepted";
inline constexpr const char* kProgressRunning = "running";

// agent -> controller, final outcome of a command.
struct CommandResult {
  std::string command_id;
  std::string status;  // "succeeded" | "failed" | "timed_out" | "cancelled" | "rejected"
  int32_t code = 0;
  std::string error;
  ValueMap output;
  uint64_t duration_ms = 0;
  // Optional (added with the command channel): a stable error code ("invalid_params", "busy",
  // "timeout", ...) and structured output (the action's details) as one JSON object's text.
  std::string error_code;
  std::string output_json;
  bool operator==(const CommandResult&) const = default;
};

// either side, before closing a session on purpose, or the controller refusing one.
struct Bye {
  std::string reason;
  bool operator==(const Bye&) const = default;
};

using Body = std::variant<Hello, Welcome, Report, Ack, Command, Progress, CommandResult, Bye>;

struct Envelope {
  uint32_t v = kProtocolMajor;
  std::string id;     // unique per sender, e.g. "<agent>-<seq>" or a random hex id
  int64_t ts_ms = 0;  // sender's wall clock, unix ms
  std::string from;   // agent id, or the controller id
  Body body;
  MessageType type() const { return static_cast<MessageType>(body.index()); }
  bool operator==(const Envelope&) const = default;
};

}  // namespace noa::protocol
