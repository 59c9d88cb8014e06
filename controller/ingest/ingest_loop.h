#pragma once

// The controller's single writer: receives from the ROUTER socket, drains up to `max_drain`
// messages per pass, hands each to IngestCore, commits one store batch per pass and only then
// sends the replies (an ack means "stored"). Also runs the periodic liveness sweep and history
// retention. Not thread-safe: runs on the ingest thread.

#include <chrono>

#include "common/transport/router_socket.h"
#include "controller/ingest/ingest_core.h"

namespace noa::controller {

struct IngestLoopOptions {
  size_t max_drain = 100;
  std::chrono::milliseconds sweep_every{250};
  std::chrono::milliseconds history_retention{std::chrono::hours(24 * 7)};
  std::chrono::milliseconds prune_every{std::chrono::minutes(1)};
  std::chrono::milliseconds expire_commands_every{std::chrono::seconds(1)};
  // Finished commands are kept this long (REST, noactl commands), then deleted.
  std::chrono::milliseconds finished_command_retention{std::chrono::hours(24 * 30)};
  // For this long after the loop starts, every `restart_nudge_every` the known agents without a
  // session are sent ack{hello_required} unprompted (IngestCore::agentsWithoutSession), so a
  // fleet that reconnects after a controller restart says hello at once. 0 = off.
  std::chrono::milliseconds restart_nudge_window{std::chrono::seconds(15)};
  std::chrono::milliseconds restart_nudge_every{250};
  // After a pass that emptied the socket, the next one starts no sooner than this after it
  // began. A fleet's reports arrive one at a time, and a pass per report pays a poll wake-up, a
  // store commit and the I/O thread's signals for each; gathering a few milliseconds of them
  // makes one pass of many. A backlog (a full drain) never waits. 0 = a pass per arrival.
  std::chrono::microseconds gather_window{0};
};

class IngestLoop {
 public:
  // `wakeup` (optional) ends a pass's wait early: rung when a command is created or cancelled,
  // so it goes out at once instead of at the next poll timeout.
  IngestLoop(transport::RouterSocket& socket, Store& store, IngestCore& core, Clock& clock,
             ControllerMetrics& metrics, IngestLoopOptions options,
             const transport::Wakeup* wakeup = nullptr);

  // One pass: waits up to `wait` for the first message (or a wakeup), handles what came,
  // commits, then sends the replies and every command that is due. Returns the socket's error, if any;
  // store failures are logged and surfaced through Store::health(), not returned.
  Status pollOnce(std::chrono::milliseconds wait);
  // Writes every agent record not yet checkpointed (IngestOptions::record_checkpoint_every), so
  // a clean stop leaves no record behind its history. Call once after the last pollOnce().
  Status flushRecords();

 private:
  void commit(Store::Batch& batch, std::vector<Reply>& replies);
  void runHousekeeping(Store::Batch& batch);
  void nudgeAfterRestart();

  transport::RouterSocket& socket_;
  Store& store_;
  IngestCore& core_;
  Clock& clock_;
  ControllerMetrics& metrics_;
  const IngestLoopOptions options_;
  const transport::Wakeup* const wakeup_;
  MonoTime last_sweep_{};
  MonoTime last_expire_{};
  MonoTime last_prune_{};
  const MonoTime started_;
  MonoTime last_nudge_{};
  // Real time, not clock_: the gather window is a pause of this thread, not a policy duration.
  std::chrono::steady_clock::time_point last_pass_started_{};
  bool last_pass_emptied_socket_ = false;
  uint64_t nudges_delivered_ = 0;
  bool nudge_window_logged_ = false;
  bool store_error_logged_ = false;
};

}  // namespace noa::controller
