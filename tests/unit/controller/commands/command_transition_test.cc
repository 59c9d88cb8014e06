// The command state machine, every (state, event) pair against a table written out by hand.

#include "controller/commands/command_transition.h"

#include <gtest/gtest.h>

#include <array>

namespace noa::controller::commands {
namespace {

using S = CommandState;
using O = TransitionOutcome;

struct Expect {
  O outcome;
  S state;  // state after (== before unless applied)
};

// Columns, in this order.
enum Col {
  kSend,
  kAccepted,
  kProgress,
  kResultSucceeded,
  kResultFailed,
  kResultRejected,
  kResultTimedOut,
  kResultCancelled,
  kExpire,
  kCancel,
  kSendCancel,  // without a cancel request
  kCols
};

CommandEvent eventFor(Col col) {
  CommandEvent e;
  e.ts_ms = 5000;
  auto result = [&e](const char* status) {
    e.kind = CommandEventKind::kResult;
    e.result.status = status;
  };
  switch (col) {
    case kSend:
      e.kind = CommandEventKind::kSend;
      break;
    case kAccepted:
      e.kind = CommandEventKind::kAccepted;
      break;
    case kProgress:
      e.kind = CommandEventKind::kProgress;
      e.progress.phase = "dump";
      e.progress.bytes_done = 10;
      break;
    case kResultSucceeded:
      result("succeeded");
      break;
    case kResultFailed:
      result("failed");
      break;
    case kResultRejected:
      result("rejected");
      break;
    case kResultTimedOut:
      result("timed_out");
      break;
    case kResultCancelled:
      result("cancelled");
      break;
    case kExpire:
      e.kind = CommandEventKind::kExpire;
      break;
    case kCancel:
      e.kind = CommandEventKind::kCancel;
      break;
    case kSendCancel:
      e.kind = CommandEventKind::kSendCancel;
      break;
    case kCols:
      break;
  }
  return e;
}

constexpr Expect A(S s) { return {O::kApplied, s}; }
constexpr Expect U(S s) { return {O::kUnchanged, s}; }
constexpr Expect D(S s) { return {O::kDuplicate, s}; }
constexpr Expect R(S s) { return {O::kRefused, s}; }

// clang-format off
constexpr std::array<std::array<Expect, kCols>, kCommandStateCount> kTable = {{
  //         send           accepted       progress          succeeded          failed          rejected        timed_out         cancelled          expire            cancel             send_cancel
  /*pend*/ {{A(S::kSent),    A(S::kAcked),  A(S::kRunning),  A(S::kSucceeded),  A(S::kFailed),  A(S::kFailed),  A(S::kTimedOut),  A(S::kCancelled),  A(S::kTimedOut),  A(S::kCancelled),  R(S::kPending)}},
  /*sent*/ {{A(S::kSent),    A(S::kAcked),  A(S::kRunning),  A(S::kSucceeded),  A(S::kFailed),  A(S::kFailed),  A(S::kTimedOut),  A(S::kCancelled),  A(S::kTimedOut),  A(S::kSent),       R(S::kSent)}},
  /*ackd*/ {{A(S::kAcked),   U(S::kAcked),  A(S::kRunning),  A(S::kSucceeded),  A(S::kFailed),  A(S::kFailed),  A(S::kTimedOut),  A(S::kCancelled),  A(S::kTimedOut),  A(S::kAcked),      R(S::kAcked)}},
  /*run */ {{A(S::kRunning), U(S::kRunning),A(S::kRunning),  A(S::kSucceeded),  A(S::kFailed),  A(S::kFailed),  A(S::kTimedOut),  A(S::kCancelled),  A(S::kTimedOut),  A(S::kRunning),    R(S::kRunning)}},
  /*succ*/ {{R(S::kSucceeded), D(S::kSucceeded), D(S::kSucceeded), D(S::kSucceeded), D(S::kSucceeded), D(S::kSucceeded), D(S::kSucceeded), D(S::kSucceeded), U(S::kSucceeded), R(S::kSucceeded), R(S::kSucceeded)}},
  /*fail*/ {{R(S::kFailed),  D(S::kFailed), D(S::kFailed),   D(S::kFailed),     D(S::kFailed),  D(S::kFailed),  D(S::kFailed),    D(S::kFailed),     U(S::kFailed),    R(S::kFailed),     R(S::kFailed)}},
  /*tout*/ {{R(S::kTimedOut), D(S::kTimedOut), D(S::kTimedOut), D(S::kTimedOut), D(S::kTimedOut), D(S::kTimedOut), D(S::kTimedOut), D(S::kTimedOut), U(S::kTimedOut), R(S::kTimedOut), R(S::kTimedOut)}},
  /*cncl*/ {{R(S::kCancelled), D(S::kCancelled), D(S::kCancelled), D(S::kCancelled), D(S::kCancelled), D(S::kCancelled), D(S::kCancelled), D(S::kCancelled), U(S::kCancelled), R(S::kCancelled), R(S::kCancelled)}},
}};
// clang-format on

CommandRecord recordIn(S state) {
  CommandRecord r;
  r.id = "cmd-1";
  r.agent_id = "pg-1";
  r.action = "ping";
  r.state = state;
  r.history.push_back({state, 1000, ""});
  return r;
}

TEST(CommandTransition, EveryStateAndEventMatchesTheTable) {
  for (int s = 0; s < kCommandStateCount; ++s) {
    for (int c = 0; c < kCols; ++c) {
      const CommandRecord before = recordIn(static_cast<S>(s));
      const Transition t = applyCommandEvent(before, eventFor(static_cast<Col>(c)));
      const Expect want = kTable[s][c];
      SCOPED_TRACE(std::string(commandStateName(before.state)) + " x column " + std::to_string(c));
      EXPECT_EQ(t.outcome, want.outcome) << transitionOutcomeName(t.outcome);
      EXPECT_EQ(t.record.state, want.state) << commandStateName(t.record.state);
      if (t.outcome != O::kApplied) {
        EXPECT_EQ(t.record, before) << "only an applied transition changes the record";
      }
      if (t.outcome == O::kRefused || t.outcome == O::kDuplicate) {
        EXPECT_FALSE(t.reason.empty());
      }
      if (t.outcome == O::kApplied && t.record.state != before.state) {
        ASSERT_EQ(t.record.history.size(), before.history.size() + 1);
        EXPECT_EQ(t.record.history.back().state, t.record.state);
        EXPECT_EQ(t.record.history.back().ts_ms, 5000);
      }
    }
  }
}

TEST(CommandTransition, SendCountsAttemptsAndKeepsHistoryShort) {
  CommandRecord r = recordIn(S::kPending);
  r = applyCommandEvent(r, {CommandEventKind::kSend, 10, "", {}, {}}).record;
  r = applyCommandEvent(r, {CommandEventKind::kSend, 20, "", {}, {}}).record;
  EXPECT_EQ(r.state, S::kSent);
  EXPECT_EQ(r.attempts, 2u);
  EXPECT_EQ(r.last_sent_ms, 20);
  EXPECT_EQ(r.history.size(), 2u) << "a resend is an attempt, not a state change";
}

TEST(CommandTransition, CancelInFlightOnlyRequestsItAndThenMaySend) {
  CommandRecord r = recordIn(S::kRunning);
  Transition t = applyCommandEvent(r, {CommandEventKind::kCancel, 10, "alice", {}, {}});
  ASSERT_EQ(t.outcome, O::kApplied);
  EXPECT_TRUE(t.record.cancel_requested);
  EXPECT_EQ(t.record.state, S::kRunning);
  EXPECT_NE(t.record.history.back().detail.find("alice"), std::string::npos);
  EXPECT_EQ(applyCommandEvent(t.record, {CommandEventKind::kCancel, 11, "", {}, {}}).outcome,
            O::kUnchanged);
  Transition sent = applyCommandEvent(t.record, {CommandEventKind::kSendCancel, 12, "", {}, {}});
  ASSERT_EQ(sent.outcome, O::kApplied);
  EXPECT_EQ(sent.record.cancel_sent_ms, 12);
  // The agent's result decides: an action that finished first succeeded.
  CommandEvent result{CommandEventKind::kResult, 13, "", {}, {}};
  result.result.status = "succeeded";
  EXPECT_EQ(applyCommandEvent(sent.record, result).record.state, S::kSucceeded);
}

TEST(CommandTransition, ResultAndProgressAreKept) {
  CommandEvent p{CommandEventKind::kProgress, 10, "", {}, {}};
  p.progress = {"verify", 5, 50, 0};
  Transition t = applyCommandEvent(recordIn(S::kAcked), p);
  ASSERT_TRUE(t.record.progress.has_value());
  EXPECT_EQ(t.record.progress->phase, "verify");
  EXPECT_EQ(t.record.progress->ts_ms, 10);
  CommandEvent r{CommandEventKind::kResult, 20, "", {}, {}};
  r.result.status = "rejected";
  r.result.error_code = "unknown_action";
  r.result.error = "no action 'x'";
  t = applyCommandEvent(t.record, r);
  EXPECT_EQ(t.record.state, S::kFailed);
  ASSERT_TRUE(t.record.result.has_value());
  EXPECT_EQ(t.record.result->status, "rejected");
  EXPECT_NE(t.record.history.back().detail.find("unknown_action"), std::string::npos);
}

}  // namespace
}  // namespace noa::controller::commands
