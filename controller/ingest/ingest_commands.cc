// IngestCore's part of the command channel: applying agents' progress and results to the
// CommandBook, and delivering due commands. See ingest_core.h ("Commands").

#include "common/log.h"
#include "controller/ingest/ingest_core.h"

namespace noa::controller {

void IngestCore::onCommandEvent(const std::string& peer, const protocol::Envelope& env,
                                std::vector<Reply>& replies) {
  const bool is_result = env.type() == protocol::MessageType::kResult;
  const std::string& id = is_result ? std::get<protocol::CommandResult>(env.body).command_id
                                    : std::get<protocol::Progress>(env.body).command_id;
  if (commands_ == nullptr) {
    reject(peer, "unknown_command", "no command '" + id + "' was sent to this agent");
    // Answered so the agent drops it from its spool instead of offering it forever.
    if (is_result) {
      replies.push_back({peer, makeEnvelope(protocol::Ack{env.id, 0, "rejected",
                                                          "unknown command id '" + id + "'", id})});
    }
    return;
  }
  if (is_result) {
    // Applied with the drain's other results in one synced commit (applyPendingResults).
    pending_results_.push_back({peer, env.id, std::get<protocol::CommandResult>(env.body)});
    return;
  }
  answerCommandEvent(peer, env.id, id, /*is_result=*/false,
                     commands_->applyProgress(peer, std::get<protocol::Progress>(env.body)),
                     replies);
}

void IngestCore::applyPendingResults(std::vector<Reply>& replies) {
  if (pending_results_.empty()) return;
  std::vector<commands::CommandBook::AgentResult> batch;
  batch.reserve(pending_results_.size());
  for (PendingResult& pending : pending_results_) {
    batch.push_back({pending.peer, std::move(pending.msg)});
  }
  auto applied = commands_->applyResults(batch);
  for (size_t i = 0; i < batch.size(); ++i) {
    const PendingResult& pending = pending_results_[i];
    answerCommandEvent(pending.peer, pending.envelope_id, batch[i].msg.command_id,
                       /*is_result=*/true,
                       applied.ok() ? Result<commands::ApplyResult>(std::move((*applied)[i]))
                                    : Result<commands::ApplyResult>(applied.status()),
                       replies);
  }
  pending_results_.clear();
}

void IngestCore::answerCommandEvent(const std::string& peer, const std::string& envelope_id,
                                    const std::string& id, bool is_result,
                                    const Result<commands::ApplyResult>& applied,
                                    std::vector<Reply>& replies) {
  const std::string_view kind = is_result ? "result" : "progress";
  auto refuse = [&](const std::string& why) {
    // Answered so the agent drops it from its spool instead of offering it forever.
    if (is_result) {
      replies.push_back({peer, makeEnvelope(protocol::Ack{envelope_id, 0, "rejected", why, id})});
    }
  };
  if (!applied.ok()) {
    metrics_.countCommandEvent(kind, "store_error");
    log::error("command event not stored",
               {{"agent", peer}, {"command", id}, {"error", applied.status().toString()}});
    if (is_result) {
      replies.push_back({peer, makeEnvelope(protocol::Ack{envelope_id, 0, "store_unavailable",
                                                          applied.status().message(), id})});
    }
    return;
  }
  metrics_.countCommandEvent(kind, commands::applyOutcomeName(applied->outcome));
  switch (applied->outcome) {
    case commands::ApplyOutcome::kUnknownCommand:
      reject(peer, "unknown_command", applied->reason);
      refuse(applied->reason);
      return;
    case commands::ApplyOutcome::kWrongAgent:
      reject(peer, "identity_mismatch", applied->reason);
      refuse(applied->reason);
      return;
    case commands::ApplyOutcome::kApplied:
      if (is_result && applied->record && commands::isTerminal(applied->record->state)) {
        metrics_.countCommandFinished(commands::commandStateName(applied->record->state));
      }
      break;
    case commands::ApplyOutcome::kDuplicate:
    case commands::ApplyOutcome::kUnchanged:
      break;
  }
  // Stored (or already stored): the agent may forget it.
  if (!is_result) return;
  protocol::Ack ack{envelope_id, 0, "", "", id};
  // A lease holder's result renews its lease like a report does (counted from this receipt):
  // a just-named candidate gets its first grant from a ping's result instead of waiting for
  // its next report.
  if (leases_ != nullptr) {
    if (auto agent = registry_.get(peer)) {
      if (auto grant = leases_->renew(agent->hello.service, peer, clock_.now())) {
        ack.lease_ms = grant->lease_ms;
        ack.leader_epoch = grant->epoch;
      }
    }
  }
  replies.push_back({peer, makeEnvelope(std::move(ack))});
}

void IngestCore::deliverCommands(std::vector<Reply>& replies) {
  if (commands_ == nullptr) return;
  for (const std::string& agent : commands_->agentsWithDeliveries()) {
    // Only within a session whose hello passed the key checks: with ROUTER_HANDOVER, a routing
    // id without a session may belong to a connection that is not the agent's.
    if (sessions_.count(agent) == 0) continue;
    const commands::CommandBookStats before = commands_->stats();
    auto claimed = commands_->claimDeliveries(agent);
    if (!claimed.ok()) {
      log::error("commands not sent: cannot store that they were",
                 {{"agent", agent}, {"error", claimed.status().toString()}});
      continue;
    }
    const commands::CommandBookStats after = commands_->stats();
    metrics_.countCommandSends("first", after.sent - before.sent);
    metrics_.countCommandSends("resend", after.resent - before.resent);
    metrics_.countCommandSends("cancel", after.cancels_sent - before.cancels_sent);
    for (protocol::Command& command : *claimed) {
      log::debug("command sent", {{"agent", agent},
                                  {"command", command.command_id},
                                  {"action", command.action},
                                  {"cancel", command.cancel}});
      replies.push_back({agent, makeEnvelope(std::move(command))});
    }
  }
}

void IngestCore::expireCommands(std::chrono::milliseconds finished_retention) {
  if (commands_ == nullptr) return;
  auto expired = commands_->expire();
  if (!expired.ok()) {
    log::warn("command expiry failed", {{"error", expired.status().toString()}});
  } else {
    for (size_t i = 0; i < expired->size(); ++i) metrics_.countCommandFinished("timed_out");
  }
  const MonoTime now = clock_.now();
  if (now - last_command_prune_ < std::chrono::minutes(10)) return;
  last_command_prune_ = now;
  auto pruned = commands_->pruneFinished(toUnixMillis(clock_.wallNow()) - finished_retention.count());
  if (!pruned.ok()) {
    log::warn("pruning finished commands failed", {{"error", pruned.status().toString()}});
  } else if (*pruned > 0) {
    log::info("finished commands pruned", {{"count", *pruned}});
  }
}

}  // namespace noa::controller
