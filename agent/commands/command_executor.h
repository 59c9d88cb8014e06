#pragma once

// The agent's end of the command channel: takes `command` messages, runs the named action from
// the ActionRegistry and produces the events the controller must get (progress, results).
//
//  - Dedupe by command id (CommandJournal, on disk): a repeated id that is still queued or
//    running is not run again (its current state is re-announced); one that finished is
//    answered with the same result again. A cancel for an unknown id is recorded as cancelled,
//    so a late copy of the command never runs.
//  - One action at a time per lane (the target it works on, see PreparedAction::lane), in
//    arrival order; different lanes run side by side, each on its own worker thread.
//  - The command's deadline becomes the action's timeout; a command past it is not started.
//  - Progress: `accepted` on receipt, `running` at start, then the action's progress at most
//    every `progress_interval` (and at phase changes). Only the newest progress of a command
//    waits in the queue: progress is state, not history.
//  - A result is written to the spool (atomically) before it is offered, and deleted only when
//    the controller acknowledges it (onAck). open() offers the spool again, and so does
//    reofferSpool() (call it after every welcome): results produced while the controller was
//    down are delivered when it returns. An action interrupted by the agent stopping ends,
//    at the next open(), as failed with error code "agent_restarted"; it is never resumed.
//    One that had claimed an artifact (ActionContext::claim_artifact) is settled first: a
//    complete artifact with its manifest is adopted as the result (succeeded), an
//    uncatalogued one is removed (actions/artifact_recovery.h).
//  - Cancel: the action's StopToken (the actions kill their process group and remove partial
//    output); a command still queued ends cancelled without running.
//
// Thread-safe. submit/onAck/reofferSpool/drainEvents come from the session thread; actions run
// on worker threads and never block the caller.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "agent/commands/action_registry.h"
#include "agent/commands/command_journal.h"
#include "common/clock.h"
#include "common/protocol/messages.h"
#include "common/status.h"
#include "common/stop_token.h"

namespace noa::agent::commands {

// Stable error codes the executor itself produces (the actions' own are in actions/action.h).
inline constexpr const char* kErrAgentRestarted = "agent_restarted";
inline constexpr const char* kErrInvalidCommandId = "invalid_command_id";
inline constexpr const char* kErrInternal = "internal";

struct ExecutorOptions {
  std::string state_dir;  // the journal and spool live in <state_dir>/commands
  Millis progress_interval{1000};
  // Finished, acknowledged commands are forgotten after this (the controller never resends a
  // command past its deadline, and commands older than this are long finished there).
  Millis journal_retention{std::chrono::hours(24 * 7)};
  // Caps that keep a result inside the protocol's limits (16 KiB strings, 64 KiB messages).
  size_t max_output_json_bytes = 12 * 1024;
  size_t max_text_bytes = 4 * 1024;
};

using OutgoingEvent = std::variant<protocol::Progress, protocol::CommandResult>;

struct ExecutorStats {
  uint64_t received = 0;
  uint64_t duplicates = 0;  // repeated ids answered without running
  uint64_t rejected = 0;    // unknown action, bad params, bad id
  uint64_t started = 0;
  uint64_t finished = 0;
  uint64_t cancels = 0;
  uint64_t journal_errors = 0;
};

class CommandExecutor {
 public:
  // Opens the journal and spool, ends interrupted commands as failed (agent_restarted) and
  // queues every unacknowledged result.
  static Result<std::unique_ptr<CommandExecutor>> open(ExecutorOptions options,
                                                       ActionRegistry registry,
                                                       const Clock& clock = systemClock());
  ~CommandExecutor();  // stop()
  CommandExecutor(const CommandExecutor&) = delete;
  CommandExecutor& operator=(const CommandExecutor&) = delete;

  // A `command` message from the controller (also a cancel: command.cancel).
  void submit(const protocol::Command& command);
  // An `ack` from the controller: with a command_id and error "" or "rejected", the result is
  // dropped from the spool. Other acks are ignored.
  void onAck(const protocol::Ack& ack);
  // Queues every unacknowledged result again (one not already queued). Call it after every
  // welcome (the controller may have lost whatever was sent before) and every ~30 s (a result
  // dropped on the way within a session); a copy the controller already has is acknowledged
  // and ignored there.
  void reofferSpool();

  // Takes up to `max` events, oldest first. Wrap each in an envelope and send it; an event that
  // cannot be sent may be dropped: results come back through the spool, progress is replaced.
  std::vector<OutgoingEvent> drainEvents(size_t max = SIZE_MAX);
  size_t pendingEvents() const;
  // Called (from any thread, outside the executor's lock) when an event is queued.
  void setWakeup(std::function<void()> wakeup);

  // Action names for the hello's `capabilities`.
  std::vector<std::string> capabilities() const { return registry_.names(); }

  // Cancels what runs, drops what is queued (it ends as agent_restarted at the next open) and
  // joins the workers. Idempotent.
  void stop();

  // Waits until nothing is queued or running; false on timeout. For tests and shutdown.
  bool waitIdle(Millis timeout);

  ExecutorStats stats() const;

 private:
  struct Job;

  CommandExecutor(ExecutorOptions options, ActionRegistry registry, const Clock& clock,
                  std::unique_ptr<CommandJournal> journal);

  int64_t nowMs() const { return toUnixMillis(clock_.wallNow()); }
  void handleCancelLocked(const protocol::Command& command);
  // Journals the result (spool first) and queues it.
  void finishLocked(protocol::CommandResult result);
  void pushLocked(OutgoingEvent event);
  void enqueueLocked(std::shared_ptr<Job> job);
  void laneLoop(std::string lane, uint64_t worker_id);
  void runJob(Job& job);
  protocol::CommandResult toResult(const std::string& id, const actions::ActionResult& r) const;
  // The result of a command a restart found unfinished: its adopted artifact's success, or
  // failed (agent_restarted) after removing what it left uncatalogued.
  protocol::CommandResult interruptedResult(const JournalEntry& entry) const;
  protocol::CommandResult refusal(const std::string& id, const std::string& status,
                                  const std::string& code, const std::string& error) const;
  void reapLocked(std::vector<std::thread>& out);
  void wake();

  const ExecutorOptions options_;
  const ActionRegistry registry_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  // State below is protected by mu_.
  std::unique_ptr<CommandJournal> journal_;
  std::deque<OutgoingEvent> events_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;  // queued or running, by command id
  std::map<std::string, std::deque<std::shared_ptr<Job>>> lanes_;  // queued jobs per busy lane
  std::map<uint64_t, std::thread> workers_;
  std::vector<uint64_t> finished_workers_;
  uint64_t next_worker_id_ = 0;
  bool stopping_ = false;
  ExecutorStats stats_;
  std::function<void()> wakeup_;
};

}  // namespace noa::agent::commands
