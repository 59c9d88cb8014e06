#include "controller/ingest/ingest_loop.h"

#include <thread>

#include "common/log.h"

namespace noa::controller {

IngestLoop::IngestLoop(transport::RouterSocket& socket, Store& store, IngestCore& core,
                       Clock& clock, ControllerMetrics& metrics, IngestLoopOptions options,
                       const transport::Wakeup* wakeup)
    : socket_(socket),
      store_(store),
      core_(core),
      clock_(clock),
      metrics_(metrics),
      options_(options),
      wakeup_(wakeup),
      last_sweep_(clock.now()),
      last_expire_(clock.now()),
      last_prune_(clock.now()),
      started_(clock.now()) {}

Status IngestLoop::pollOnce(std::chrono::milliseconds wait) {
  if (options_.gather_window.count() > 0 && last_pass_emptied_socket_) {
    std::this_thread::sleep_until(last_pass_started_ + options_.gather_window);
  }
  last_pass_started_ = std::chrono::steady_clock::now();
  Store::Batch batch;
  std::vector<Reply> replies;
  auto first = socket_.receive(wait, wakeup_);
  if (!first.ok()) return first.status();
  // Revocations first: a revoked agent's messages in this drain are already refused.
  core_.applyKeyChanges(replies);
  size_t drained = 0;
  if (first->has_value()) {
    const auto& msg = **first;
    core_.handle(msg.peer, msg.payload, msg.extra_frames, msg.user_id, batch, replies);
    for (drained = 1; drained < options_.max_drain; ++drained) {
      auto next = socket_.receive(std::chrono::milliseconds(0));
      if (!next.ok() || !next->has_value()) break;
      const auto& more = **next;
      core_.handle(more.peer, more.payload, more.extra_frames, more.user_id, batch, replies);
    }
  }
  last_pass_emptied_socket_ = drained < options_.max_drain;
  if (drained > 0) metrics_.observeDrain(drained);
  core_.applyPendingResults(replies);
  core_.nudgeEnrolled(replies);
  runHousekeeping(batch);
  core_.flushDirty(batch);
  commit(batch, replies);
  // After the welcomes of this drain (an agent that just said hello gets its commands next)
  // and independent of the batch: the book stores "sent" itself before anything goes out.
  core_.deliverCommands(replies);
  for (const auto& reply : replies) {
    Status sent = socket_.send(reply.peer, reply.payload);
    if (!sent.ok()) log::debug("reply not sent", {{"peer", reply.peer}, {"error", sent.message()}});
  }
  nudgeAfterRestart();
  return Status::Ok();
}

Status IngestLoop::flushRecords() {
  Store::Batch batch;
  core_.flushDirty(batch, true);
  return store_.commit(batch);
}

void IngestLoop::nudgeAfterRestart() {
  if (options_.restart_nudge_window.count() <= 0 || nudge_window_logged_) return;
  const MonoTime now = clock_.now();
  if (now - started_ > options_.restart_nudge_window) {
    nudge_window_logged_ = true;
    log::info("restart nudges over", {{"delivered", nudges_delivered_}});
    return;
  }
  if (last_nudge_ != MonoTime{} && now - last_nudge_ < options_.restart_nudge_every) return;
  last_nudge_ = now;
  const std::vector<std::string> agents = core_.agentsWithoutSession();
  if (agents.empty()) return;
  const std::string nudge = core_.helloRequiredNudge();
  // Not connected (NotFound) is the usual answer for most of them early on: quietly skipped.
  for (const std::string& agent : agents) {
    if (socket_.send(agent, nudge).ok()) ++nudges_delivered_;
  }
}

void IngestLoop::commit(Store::Batch& batch, std::vector<Reply>& replies) {
  if (batch.empty()) return;
  const auto start = std::chrono::steady_clock::now();
  Status status = store_.commit(batch);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_.observeCommit(seconds, status.ok());
  metrics_.setStoreStatus(status);
  if (status.ok()) {
    if (store_error_logged_) log::info("store writes succeed again; acknowledging reports");
    store_error_logged_ = false;
    return;
  }
  if (!store_error_logged_) {
    log::error("store write failed; reports are not acknowledged until it recovers",
               {{"error", status.toString()}, {"path", store_.path()}});
    store_error_logged_ = true;
  }
  for (auto& reply : replies) {
    if (!reply.stored_ack_ref.empty()) {
      reply.payload = core_.ackError(reply.stored_ack_ref, "store_unavailable", status.message());
    }
  }
}

void IngestLoop::runHousekeeping(Store::Batch& batch) {
  const MonoTime now = clock_.now();
  if (now - last_sweep_ >= options_.sweep_every) {
    core_.sweepLiveness(batch);
    last_sweep_ = now;
  }
  if (now - last_expire_ >= options_.expire_commands_every) {
    last_expire_ = now;
    core_.expireCommands(options_.finished_command_retention);
  }
  if (now - last_prune_ >= options_.prune_every) {
    last_prune_ = now;
    const int64_t cutoff = toUnixMillis(clock_.wallNow()) - options_.history_retention.count();
    auto pruned = store_.pruneHistory(cutoff);
    if (pruned.ok()) {
      metrics_.countHistoryPruned();
    } else {
      log::warn("history retention failed", {{"error", pruned.status().toString()}});
    }
  }
}

}  // namespace noa::controller
