#pragma once

// The controller's commands: an in-memory index over the `commands` column family. Every change
// is committed before the call returns, so whatever the caller does next (send a command,
// acknowledge a result, answer a REST request) rests on stored state; a commit that fails changes
// nothing in memory and returns the store's error. What is acknowledged to someone (creation,
// cancel, a result, expiry) is fsync'd; "sent", "acked" and "running" reach the WAL without an
// fsync (they survive a crash of the process, and if the machine loses them the command is sent
// again and the agent dedupes it): two fsyncs per command instead of five.
//
// Delivery is at least once, dedupe is the agent's job (by command id):
//  - claimDeliveries() marks what is due as sent (stored) and returns exactly the messages to
//    send: pending commands, commands sent but not accepted for `resend_interval`, every
//    unfinished command of an agent that (re)connected, and cancels not yet sent (or not
//    answered for `resend_interval`). A command with a cancel request is not sent again: the
//    cancel alone goes, and the agent records an unknown id's cancel as cancelled.
//  - A restarted controller loads every record and treats each agent with unfinished commands
//    as reconnected: everything not finished is sent again once its agent is claimed for.
//  - Results and progress are applied through the pure state machine (command_transition.h):
//    a replayed result for a finished command is kDuplicate, never applied twice.
//
// Time: stored timestamps are the controller's wall clock in unix ms (they cross restarts and
// are shown to people); a wall-clock jump only makes a resend come early or late, which dedupe
// makes harmless. Deadlines are unix ms too, because the agent enforces them as well.
//
// Thread-safe: REST threads create/cancel/read, the ingest thread delivers and applies agent
// messages. One mutex covers the index and the commit, so transitions never interleave.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/protocol/messages.h"
#include "common/status.h"
#include "controller/commands/command_record.h"
#include "controller/commands/command_target.h"
#include "controller/commands/command_transition.h"
#include "controller/store/store.h"

namespace noa::controller::commands {

struct CommandBookOptions {
  // A command sent but not accepted (progress{state: accepted}) is sent again after this.
  Millis resend_interval{10'000};
  // A command the agent has (sent/acked/running) is timed out this long after its deadline:
  // the agent enforces the deadline as the action's timeout and its own result, usually
  // `timed_out` with details, should win the race. A pending command expires at the deadline.
  Millis expiry_grace{30'000};
  // Limits of what one command may carry (the protocol's 64 KiB message, 16 KiB strings).
  size_t max_params_json_bytes = 12 * 1024;
  size_t max_action_bytes = 128;
};

struct NewCommand {
  ResolvedTarget target;  // from resolveTarget()
  std::string action;
  nlohmann::json params = nlohmann::json::object();
  int64_t deadline_ms = 0;  // unix ms; 0 = none
  std::string created_by;
  std::string origin;  // see CommandRecord::origin
  // Why it was created (a policy's reasons), kept in the first history item's detail.
  std::string reason;
};

struct CommandFilter {
  std::optional<CommandState> state;
  std::string agent_id;  // "" = any
  std::string service;   // "" = any
  size_t limit = 100;
};

enum class ApplyOutcome {
  kApplied,         // stored
  kUnchanged,       // allowed, nothing to store (e.g. accepted again while running)
  kDuplicate,       // about a finished command: ignored; still acknowledge it (count it)
  kUnknownCommand,  // no such command: acknowledge with error "rejected" (count it)
  kWrongAgent,      // the command belongs to another agent: reject (count it)
};

std::string_view applyOutcomeName(ApplyOutcome outcome);

struct ApplyResult {
  ApplyOutcome outcome = ApplyOutcome::kUnchanged;
  std::optional<CommandRecord> record;  // the record after the message, when known
  std::string reason;
};

struct CommandBookStats {
  uint64_t created = 0;
  uint64_t sent = 0;    // first sends
  uint64_t resent = 0;  // later sends of the same command
  uint64_t cancels_sent = 0;
  uint64_t duplicates = 0;  // replayed progress/results for finished commands
  uint64_t unknown = 0;
  uint64_t wrong_agent = 0;
  uint64_t expired = 0;
};

class CommandBook {
 public:
  // Loads every record of the `commands` family. Corruption naming the command when one does
  // not decode (a partial book could resend nothing for a forgotten command, silently).
  static Result<std::unique_ptr<CommandBook>> open(Store& store, const Clock& clock,
                                                   CommandBookOptions options = {});

  // Stores a new pending command. InvalidArgument: empty or oversized action, params not an
  // object or too large, a deadline already passed.
  Result<CommandRecord> create(const NewCommand& request);
  // Several at once (a fan-out): each checked as create() does, then all stored in one synced
  // commit, so either all exist or none. InvalidArgument for an empty list or a bad request.
  Result<std::vector<CommandRecord>> createMany(const std::vector<NewCommand>& requests);

  // pending -> cancelled at once; sent/acked/running -> cancel_requested (the cancel goes out
  // with the next claimDeliveries()). NotFound; FailedPrecondition when already finished.
  Result<CommandRecord> cancel(const std::string& id, const std::string& by);

  std::optional<CommandRecord> get(const std::string& id) const;
  // Newest first.
  std::vector<CommandRecord> list(const CommandFilter& filter) const;

  // Long-poll support (REST `GET /v1/commands/{id}?wait=`): blocks until the command is
  // terminal, `timeout` passed or `*abandon` is true, then returns the record as it is then;
  // nullopt for an unknown id (or one pruned meanwhile). Woken by every stored change, so it
  // returns as soon as the result is committed. The timeout is real (steady clock) time: the
  // injected clock only stamps records. Whoever sets `abandon` calls wakeWaiters() after.
  // REQUIRES: every waiter has returned before the book is destroyed.
  std::optional<CommandRecord> waitUntilFinished(const std::string& id, Millis timeout,
                                                 const std::atomic<bool>* abandon = nullptr) const;
  // Makes every waiter re-check its `abandon` flag (a REST server that is stopping).
  void wakeWaiters() const;

  // ---- ingest thread ----

  // The agent said hello (a new session): every unfinished command of it is due again.
  void agentConnected(const std::string& agent_id);
  // Agents with something due now (the ingest claims for those with a live session).
  std::vector<std::string> agentsWithDeliveries() const;
  // Marks what is due for the agent as sent (one synced commit) and returns the messages to
  // send, in creation order. Call only for an agent with a live session, and send them all.
  Result<std::vector<protocol::Command>> claimDeliveries(const std::string& agent_id);

  // progress{state: accepted} -> acked; progress{state: running} -> running (+ progress).
  // A state change is committed with sync; a progress update alone without (it is replaced
  // within seconds, and losing the last one loses nothing that matters).
  Result<ApplyResult> applyProgress(const std::string& agent_id, const protocol::Progress& msg);
  // A result ends the command (synced). kDuplicate for a finished one.
  Result<ApplyResult> applyResult(const std::string& agent_id, const protocol::CommandResult& msg);
  // Several results (one ingest drain's) in one synced commit: a fan-out's thousand results cost
  // a few fsyncs instead of a thousand. Applied in order, as applyResult() would one by one (a
  // second result for the same command is kDuplicate); when the commit fails nothing changes
  // and the store's error is returned for all of them.
  struct AgentResult {
    std::string agent_id;
    protocol::CommandResult msg;
  };
  Result<std::vector<ApplyResult>> applyResults(const std::vector<AgentResult>& results);

  // Times out unfinished commands past their deadline (see CommandBookOptions::expiry_grace).
  // Returns the records that timed out.
  Result<std::vector<CommandRecord>> expire();

  // Deletes finished commands whose last change is older than cutoff_ms. Returns how many.
  Result<size_t> pruneFinished(int64_t cutoff_ms);

  // Called (outside the lock) after create/cancel, so the ingest loop can deliver at once.
  void setWakeup(std::function<void()> wakeup);

  CommandBookStats stats() const;
  size_t size() const;

  // The wire message for a record (what claimDeliveries sends).
  static Result<protocol::Command> toWire(const CommandRecord& record, bool cancel);

 private:
  CommandBook(Store& store, const Clock& clock, CommandBookOptions options)
      : store_(store), clock_(clock), options_(options) {}

  int64_t nowMs() const { return toUnixMillis(clock_.wallNow()); }
  // create()'s checks and the pending record, without an id.
  Result<CommandRecord> prepare(const NewCommand& request, int64_t now) const;
  std::string newIdLocked(int64_t now_ms);
  // Commits `records` (sync) and, only then, puts them in the index and wakes the waiters.
  Status storeLocked(const std::vector<CommandRecord>& records, bool sync);
  void indexLocked(const CommandRecord& record);
  bool dueLocked(const CommandRecord& r, int64_t now_ms, bool reconnected, bool& cancel) const;
  // `staged` holds records changed earlier in the same batch (newer than the index); null = none.
  Result<ApplyResult> applyAgentEventLocked(const std::string& agent_id,
                                            const std::string& command_id,
                                            const CommandEvent& event, bool& state_changed,
                                            const std::map<std::string, CommandRecord>* staged =
                                                nullptr);
  void wake();

  Store& store_;
  const Clock& clock_;
  const CommandBookOptions options_;

  mutable std::mutex mu_;
  // State below is protected by mu_.
  std::map<std::string, CommandRecord> commands_;               // by id = creation order
  std::map<std::string, std::set<std::string>> open_by_agent_;  // unfinished ids per agent
  std::set<std::string> reconnected_;                           // agents due a full resend
  uint32_t id_counter_ = 0;
  CommandBookStats stats_;
  std::function<void()> wakeup_;
  // Notified (under mu_) whenever records change: waitUntilFinished() sleeps on it.
  mutable std::condition_variable changed_;
};

}  // namespace noa::controller::commands
