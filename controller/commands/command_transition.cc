#include "controller/commands/command_transition.h"

#include <array>

namespace noa::controller::commands {
namespace {

constexpr std::array<std::string_view, kCommandEventKindCount> kKindNames = {
    "send", "accepted", "progress", "result", "expire", "cancel", "send_cancel"};

void moveTo(CommandRecord& r, CommandState state, int64_t ts_ms, std::string detail) {
  r.state = state;
  r.history.push_back({state, ts_ms, std::move(detail)});
}

Transition applied(CommandRecord r) { return {TransitionOutcome::kApplied, std::move(r), ""}; }
Transition unchanged(const CommandRecord& r) { return {TransitionOutcome::kUnchanged, r, ""}; }
Transition refused(const CommandRecord& r, std::string reason) {
  return {TransitionOutcome::kRefused, r, std::move(reason)};
}

std::string resultDetail(const CommandOutcome& result) {
  std::string detail = result.status;
  if (!result.error_code.empty()) detail += " (" + result.error_code + ")";
  if (!result.error.empty()) detail += ": " + result.error;
  return detail;
}

Transition onTerminal(const CommandRecord& r, const CommandEvent& e) {
  const std::string state(commandStateName(r.state));
  switch (e.kind) {
    case CommandEventKind::kAccepted:
    case CommandEventKind::kProgress:
    case CommandEventKind::kResult:
      return {TransitionOutcome::kDuplicate, r,
              std::string(commandEventKindName(e.kind)) + " for a command already " + state};
    case CommandEventKind::kExpire:
      return unchanged(r);
    case CommandEventKind::kSend:
    case CommandEventKind::kCancel:
    case CommandEventKind::kSendCancel:
      break;
  }
  return refused(r, "command " + r.id + " is already " + state);
}

}  // namespace

std::string_view commandEventKindName(CommandEventKind kind) {
  return kKindNames[static_cast<size_t>(kind)];
}

std::string_view transitionOutcomeName(TransitionOutcome outcome) {
  switch (outcome) {
    case TransitionOutcome::kApplied:
      return "applied";
    case TransitionOutcome::kUnchanged:
      return "unchanged";
    case TransitionOutcome::kDuplicate:
      return "duplicate";
    case TransitionOutcome::kRefused:
      return "refused";
  }
  return "unknown";
}

CommandState resultState(std::string_view status) {
  if (status == "succeeded") return CommandState::kSucceeded;
  if (status == "timed_out") return CommandState::kTimedOut;
  if (status == "cancelled") return CommandState::kCancelled;
  return CommandState::kFailed;
}

Transition applyCommandEvent(const CommandRecord& current, const CommandEvent& e) {
  if (isTerminal(current.state)) return onTerminal(current, e);
  CommandRecord r = current;
  const CommandState s = current.state;
  switch (e.kind) {
    case CommandEventKind::kSend:
      r.attempts += 1;
      r.last_sent_ms = e.ts_ms;
      if (s == CommandState::kPending) moveTo(r, CommandState::kSent, e.ts_ms, e.detail);
      return applied(std::move(r));

    case CommandEventKind::kAccepted:
      if (s != CommandState::kPending && s != CommandState::kSent) return unchanged(current);
      moveTo(r, CommandState::kAcked, e.ts_ms, e.detail);
      return applied(std::move(r));

    case CommandEventKind::kProgress:
      r.progress = e.progress;
      r.progress->ts_ms = e.ts_ms;
      if (s != CommandState::kRunning) moveTo(r, CommandState::kRunning, e.ts_ms, e.detail);
      return applied(std::move(r));

    case CommandEventKind::kResult:
      r.result = e.result;
      moveTo(r, resultState(e.result.status), e.ts_ms, resultDetail(e.result));
      return applied(std::move(r));

    case CommandEventKind::kExpire:
      moveTo(r, CommandState::kTimedOut, e.ts_ms, e.detail.empty() ? "deadline passed" : e.detail);
      return applied(std::move(r));

    case CommandEventKind::kCancel:
      if (s == CommandState::kPending) {
        moveTo(r, CommandState::kCancelled, e.ts_ms, e.detail);
        return applied(std::move(r));
      }
      if (current.cancel_requested) return unchanged(current);
      r.cancel_requested = true;
      // The state stays; the history still shows who asked and when.
      r.history.push_back(
          {s, e.ts_ms, "cancel requested" + (e.detail.empty() ? "" : ": " + e.detail)});
      return applied(std::move(r));

    case CommandEventKind::kSendCancel:
      if (!current.cancel_requested) return refused(current, "no cancel was requested");
      r.cancel_sent_ms = e.ts_ms;
      return applied(std::move(r));
  }
  return refused(current, "unknown event");
}

}  // namespace noa::controller::commands
