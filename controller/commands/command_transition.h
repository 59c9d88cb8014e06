#pragma once

// The command state machine as one pure function: (record, event) -> what to store. No clock,
// no I/O; CommandBook commits the returned record before anyone acts on it.
//
//   pending --send--> sent --accepted--> acked --progress--> running --result--> terminal
//
// Rules:
// - Facts from the agent (accepted, progress, result) are taken in every non-terminal state and
//   never move a command backwards: an `accepted` that arrives after progress changes nothing,
//   a result straight after `sent` (the acceptance was lost) ends the command.
// - Terminal states absorb: accepted/progress/result for a finished command is kDuplicate (the
//   caller counts it and still acknowledges the agent); send and cancel are kRefused; expire is
//   kUnchanged.
// - send: pending -> sent; also a resend of sent/acked/running (after a reconnect) that keeps
//   the state and counts the attempt.
// - cancel: pending -> cancelled at once; sent/acked/running -> cancel_requested (the agent is
//   told; its result decides, or the deadline).
// - expire (the deadline passed): every non-terminal state -> timed_out.

#include <optional>
#include <string>

#include "controller/commands/command_record.h"

namespace noa::controller::commands {

enum class CommandEventKind {
  kSend,        // the controller is about to send (or resend) the command
  kAccepted,    // agent: progress{state: accepted}
  kProgress,    // agent: progress{state: running}
  kResult,      // agent: result
  kExpire,      // the deadline passed
  kCancel,      // someone asked to cancel
  kSendCancel,  // the controller is about to send the cancel to the agent
};

inline constexpr int kCommandEventKindCount = 7;

std::string_view commandEventKindName(CommandEventKind kind);

struct CommandEvent {
  CommandEventKind kind = CommandEventKind::kSend;
  int64_t ts_ms = 0;         // controller wall clock
  std::string detail;        // who asked (cancel), why (expire)
  CommandProgress progress;  // kProgress
  CommandOutcome result;     // kResult
};

enum class TransitionOutcome {
  kApplied,    // the record changed: commit it, then act on it
  kUnchanged,  // allowed, nothing to store
  kDuplicate,  // agent fact about a finished command: ignored (count it)
  kRefused,    // not allowed in this state (reason says why)
};

std::string_view transitionOutcomeName(TransitionOutcome outcome);

struct Transition {
  TransitionOutcome outcome = TransitionOutcome::kUnchanged;
  CommandRecord record;  // the record after the event (== input unless kApplied)
  std::string reason;    // for kRefused / kDuplicate
};

Transition applyCommandEvent(const CommandRecord& current, const CommandEvent& event);

// The terminal state a result status leads to: succeeded, timed_out, cancelled; anything else
// ("failed", "rejected", unknown) is failed.
CommandState resultState(std::string_view status);

}  // namespace noa::controller::commands
