#include "agent/commands/command_executor.h"

#include <algorithm>
#include <exception>

#include "agent/actions/artifact_recovery.h"
#include "common/log.h"
#include "common/protocol/command_params.h"

namespace noa::agent::commands {

struct CommandExecutor::Job {
  protocol::Command command;
  PreparedAction prepared;
  std::string lane;
  StopToken stop;
  bool started = false;  // guarded by the executor's mu_
  // Touched only by the worker thread that runs the job.
  std::string last_phase;
  MonoTime last_progress{};
};

namespace {

std::string cap(std::string text, size_t max) {
  if (text.size() <= max) return text;
  text.resize(max);
  return text + "...";
}

}  // namespace

CommandExecutor::CommandExecutor(ExecutorOptions options, ActionRegistry registry,
                                 const Clock& clock, std::unique_ptr<CommandJournal> journal)
    : options_(std::move(options)),
      registry_(std::move(registry)),
      clock_(clock),
      journal_(std::move(journal)) {}

Result<std::unique_ptr<CommandExecutor>> CommandExecutor::open(ExecutorOptions options,
                                                               ActionRegistry registry,
                                                               const Clock& clock) {
  if (options.state_dir.empty()) return Status::InvalidArgument("state_dir: required");
  NOA_ASSIGN_OR_RETURN(auto journal, CommandJournal::open(options.state_dir + "/commands"));
  std::unique_ptr<CommandExecutor> ex(
      new CommandExecutor(std::move(options), std::move(registry), clock, std::move(journal)));
  {
    std::lock_guard lock(ex->mu_);
    const int64_t now = ex->nowMs();
    ex->journal_->prune(now - ex->options_.journal_retention.count());
    for (const JournalEntry& e : ex->journal_->unfinished()) {
      Status s = ex->journal_->recordResult(ex->interruptedResult(e), now);
      if (!s.ok()) return s.withContext("command journal");
    }
  }
  ex->reofferSpool();
  return ex;
}

CommandExecutor::~CommandExecutor() { stop(); }

protocol::CommandResult CommandExecutor::refusal(const std::string& id, const std::string& status,
                                                 const std::string& code,
                                                 const std::string& error) const {
  protocol::CommandResult r;
  r.command_id = id;
  r.status = status;
  r.code = 1;
  r.error_code = code;
  r.error = cap(error, options_.max_text_bytes);
  return r;
}

protocol::CommandResult CommandExecutor::interruptedResult(const JournalEntry& e) const {
  std::string found;
  if (!e.artifact_path.empty()) {
    actions::InterruptedArtifact artifact =
        actions::settleInterruptedArtifact(e.artifact_path, e.command_id);
    log::warn("command interrupted by an agent restart",
              {{"command", e.command_id}, {"action", e.action}, {"artifact", artifact.note}});
    if (artifact.outcome == actions::InterruptedArtifact::Outcome::kAdopted) {
      // Finished in all but its journal entry: its result, not a second run.
      return toResult(e.command_id, artifact.result);
    }
    found = " (" + artifact.note + ")";
  } else {
    log::warn("command interrupted by an agent restart",
              {{"command", e.command_id}, {"action", e.action}});
  }
  return refusal(e.command_id, "failed", kErrAgentRestarted,
                 "the agent stopped before '" + e.action + "' finished" + found +
                     "; it was not resumed: run the command again");
}

protocol::CommandResult CommandExecutor::toResult(const std::string& id,
                                                  const actions::ActionResult& a) const {
  protocol::CommandResult r;
  r.command_id = id;
  if (a.ok) {
    r.status = "succeeded";
  } else if (a.error_code == actions::kErrTimeout) {
    r.status = "timed_out";
  } else if (a.error_code == actions::kErrCancelled) {
    r.status = "cancelled";
  } else {
    r.status = "failed";
  }
  r.code = a.ok ? 0 : 1;
  r.error_code = a.ok ? "" : a.error_code;
  r.error = cap(a.error, options_.max_text_bytes);
  r.duration_ms = static_cast<uint64_t>(std::max<int64_t>(0, a.duration.count()));
  if (a.bytes != 0) r.output["bytes"] = static_cast<int64_t>(a.bytes);
  if (!a.sha256.empty()) r.output["sha256"] = a.sha256;
  if (!a.artifact_path.empty()) r.output["artifact_path"] = a.artifact_path;
  if (!a.stderr_tail.empty()) r.output["stderr_tail"] = cap(a.stderr_tail, options_.max_text_bytes);
  if (a.details.is_object() && !a.details.empty()) {
    std::string details = a.details.dump();
    if (details.size() > options_.max_output_json_bytes) {
      // Kept on the agent's log rather than lost silently; the controller learns it was cut.
      log::warn("command details too large for the result",
                {{"command", id}, {"bytes", details.size()}});
      details =
          nlohmann::json{{"details_truncated", true}, {"details_bytes", details.size()}}.dump();
    }
    r.output_json = std::move(details);
  }
  return r;
}

void CommandExecutor::pushLocked(OutgoingEvent event) {
  if (auto* p = std::get_if<protocol::Progress>(&event);
      p != nullptr && p->state == protocol::kProgressRunning) {
    for (auto& queued : events_) {
      auto* q = std::get_if<protocol::Progress>(&queued);
      if (q != nullptr && q->command_id == p->command_id && q->state == p->state) {
        *q = std::move(*p);
        return;
      }
    }
  }
  if (auto* r = std::get_if<protocol::CommandResult>(&event)) {
    for (const auto& queued : events_) {
      auto* q = std::get_if<protocol::CommandResult>(&queued);
      if (q != nullptr && q->command_id == r->command_id) return;  // already on its way
    }
  }
  events_.push_back(std::move(event));
}

void CommandExecutor::finishLocked(protocol::CommandResult result) {
  Status s = journal_->recordResult(result, nowMs());
  if (!s.ok()) {
    // The result still goes out now; only its redelivery after a restart is at risk.
    stats_.journal_errors++;
    log::error("command result not journaled",
               {{"command", result.command_id}, {"error", s.toString()}});
  }
  pushLocked(std::move(result));
}

void CommandExecutor::submit(const protocol::Command& command) {
  {
    std::lock_guard lock(mu_);
    stats_.received++;
    const std::string& id = command.command_id;
    if (command.cancel) {
      handleCancelLocked(command);
    } else if (!CommandJournal::validCommandId(id)) {
      stats_.rejected++;
      pushLocked(refusal(id, "rejected", kErrInvalidCommandId,
                         "command id must be 1..128 of [A-Za-z0-9._-]"));
    } else if (const JournalEntry* known = journal_->find(id)) {
      stats_.duplicates++;
      if (known->result) {
        pushLocked(*known->result);
      } else if (auto job = jobs_.find(id); job != jobs_.end()) {
        protocol::Progress p;
        p.command_id = id;
        p.state = job->second->started ? protocol::kProgressRunning : protocol::kProgressAccepted;
        pushLocked(std::move(p));
      }
    } else if (stopping_) {
      return;  // not journaled: the controller sends it again to the next agent process
    } else {
      auto params = protocol::commandParams(command);
      Result<PreparedAction> prepared =
          params.ok() ? registry_.prepare(command.action, *params) : params.status();
      const int64_t now = nowMs();
      if (!prepared.ok()) {
        stats_.rejected++;
        const bool unknown = prepared.status().code() == StatusCode::kUnimplemented;
        log::warn(
            "command rejected",
            {{"command", id}, {"action", command.action}, {"error", prepared.status().message()}});
        finishLocked(refusal(id, "rejected",
                             unknown ? kErrUnknownAction : actions::kErrInvalidParams,
                             prepared.status().message()));
      } else if (command.deadline_ms != 0 && command.deadline_ms <= now) {
        finishLocked(refusal(id, "timed_out", actions::kErrTimeout,
                             "the deadline passed before the command could start"));
      } else if (Status s = journal_->recordAccepted(id, command.action, now); !s.ok()) {
        // Without the journal entry a restart could run it twice: refuse instead.
        stats_.journal_errors++;
        pushLocked(
            refusal(id, "failed", actions::kErrIo, "cannot journal the command: " + s.message()));
      } else {
        auto job = std::make_shared<Job>();
        job->command = command;
        job->lane = prepared->lane.empty() ? "#" + id : prepared->lane;
        job->prepared = std::move(prepared).value();
        protocol::Progress accepted;
        accepted.command_id = id;
        accepted.state = protocol::kProgressAccepted;
        pushLocked(std::move(accepted));
        enqueueLocked(std::move(job));
      }
    }
  }
  wake();
}

void CommandExecutor::handleCancelLocked(const protocol::Command& command) {
  const std::string& id = command.command_id;
  stats_.cancels++;
  if (auto it = jobs_.find(id); it != jobs_.end()) {
    std::shared_ptr<Job> job = it->second;
    if (job->started) {
      job->stop.requestStop();  // the action's result says what happened
      return;
    }
    auto& queue = lanes_[job->lane];
    queue.erase(std::remove(queue.begin(), queue.end(), job), queue.end());
    jobs_.erase(it);
    finishLocked(refusal(id, "cancelled", actions::kErrCancelled, "cancelled before it started"));
    idle_cv_.notify_all();
    return;
  }
  if (const JournalEntry* known = journal_->find(id); known != nullptr && known->result) {
    pushLocked(*known->result);
    return;
  }
  if (!CommandJournal::validCommandId(id)) {
    pushLocked(refusal(id, "rejected", kErrInvalidCommandId,
                       "command id must be 1..128 of [A-Za-z0-9._-]"));
    return;
  }
  // Never seen: remember it as cancelled so the command, should it still arrive, is not run.
  finishLocked(
      refusal(id, "cancelled", actions::kErrCancelled, "cancelled before the agent received it"));
}

void CommandExecutor::enqueueLocked(std::shared_ptr<Job> job) {
  const std::string lane = job->lane;
  jobs_[job->command.command_id] = job;
  auto [it, created] = lanes_.try_emplace(lane);
  it->second.push_back(std::move(job));
  if (!created) return;  // the lane's worker picks it up
  const uint64_t id = next_worker_id_++;
  workers_.emplace(id, std::thread([this, lane, id] { laneLoop(lane, id); }));
}

void CommandExecutor::laneLoop(std::string lane, uint64_t worker_id) {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::lock_guard lock(mu_);
      auto it = lanes_.find(lane);
      if (stopping_ || it == lanes_.end() || it->second.empty()) {
        // Dropped jobs stay unfinished in the journal: the next open() ends them.
        if (it != lanes_.end()) {
          for (const auto& dropped : it->second) jobs_.erase(dropped->command.command_id);
          lanes_.erase(it);
        }
        finished_workers_.push_back(worker_id);
        idle_cv_.notify_all();
        return;
      }
      job = it->second.front();
      it->second.pop_front();
      job->started = true;
      stats_.started++;
    }
    runJob(*job);
  }
}

void CommandExecutor::runJob(Job& job) {
  const std::string& id = job.command.command_id;
  auto emit = [this, &id](protocol::Progress p) {
    p.command_id = id;
    {
      std::lock_guard lock(mu_);
      pushLocked(std::move(p));
    }
    wake();
  };
  protocol::Progress running;
  running.phase = "start";
  emit(running);

  actions::ActionContext ctx;
  ctx.cancel = &job.stop;
  ctx.clock = &clock_;
  ctx.command_id = id;
  ctx.claim_artifact = [this, &id](const std::string& path) {
    std::lock_guard lock(mu_);
    Status s = journal_->recordArtifact(id, path);
    if (!s.ok()) stats_.journal_errors++;
    return s;
  };
  ctx.on_progress = [this, &job, &emit](const actions::Progress& p) {
    const MonoTime now = clock_.now();
    if (p.phase == job.last_phase && now - job.last_progress < options_.progress_interval) return;
    job.last_phase = p.phase;
    job.last_progress = now;
    protocol::Progress msg;
    msg.phase = p.phase;
    msg.bytes_done = p.bytes_done;
    msg.bytes_total_estimate = p.bytes_total_estimate;
    emit(std::move(msg));
  };
  protocol::CommandResult result;
  const int64_t remaining = job.command.deadline_ms == 0 ? 0 : job.command.deadline_ms - nowMs();
  if (job.command.deadline_ms != 0 && remaining <= 0) {
    result = refusal(id, "timed_out", actions::kErrTimeout,
                     "the deadline passed while the command was queued");
  } else if (job.stop.stopRequested()) {
    result = refusal(id, "cancelled", actions::kErrCancelled, "cancelled before it started");
  } else {
    ctx.timeout = Millis(remaining);
    log::info("command started", {{"command", id}, {"action", job.command.action}});
    try {
      result = toResult(id, job.prepared.run(ctx));
    } catch (const std::exception& e) {
      // Actions do not throw; this keeps a broken one from taking the agent down.
      result = refusal(id, "failed", kErrInternal, std::string("action threw: ") + e.what());
    } catch (...) {
      result = refusal(id, "failed", kErrInternal, "action threw");
    }
    log::info("command finished",
              {{"command", id}, {"status", result.status}, {"error_code", result.error_code}});
  }
  {
    std::lock_guard lock(mu_);
    stats_.finished++;
    jobs_.erase(id);
    finishLocked(std::move(result));
    idle_cv_.notify_all();
  }
  wake();
}

void CommandExecutor::onAck(const protocol::Ack& ack) {
  if (ack.command_id.empty()) return;
  if (!ack.error.empty() && ack.error != "rejected") return;  // not stored: keep it spooled
  std::lock_guard lock(mu_);
  Status s = journal_->dropFromSpool(ack.command_id);
  if (!s.ok()) {
    stats_.journal_errors++;
    log::warn("spooled result not removed", {{"command", ack.command_id}, {"error", s.toString()}});
  }
  std::erase_if(events_, [&ack](const OutgoingEvent& e) {
    auto* r = std::get_if<protocol::CommandResult>(&e);
    return r != nullptr && r->command_id == ack.command_id;
  });
}

void CommandExecutor::reofferSpool() {
  bool any = false;
  {
    std::lock_guard lock(mu_);
    for (auto& result : journal_->spooled()) {
      pushLocked(std::move(result));
      any = true;
    }
  }
  if (any) wake();
}

std::vector<OutgoingEvent> CommandExecutor::drainEvents(size_t max) {
  std::vector<OutgoingEvent> out;
  std::vector<std::thread> finished;
  {
    std::lock_guard lock(mu_);
    while (!events_.empty() && out.size() < max) {
      out.push_back(std::move(events_.front()));
      events_.pop_front();
    }
    reapLocked(finished);
  }
  for (auto& t : finished) t.join();
  return out;
}

size_t CommandExecutor::pendingEvents() const {
  std::lock_guard lock(mu_);
  return events_.size();
}

void CommandExecutor::setWakeup(std::function<void()> wakeup) {
  std::lock_guard lock(mu_);
  wakeup_ = std::move(wakeup);
}

void CommandExecutor::wake() {
  std::function<void()> wakeup;
  {
    std::lock_guard lock(mu_);
    wakeup = wakeup_;
  }
  if (wakeup) wakeup();
}

void CommandExecutor::reapLocked(std::vector<std::thread>& out) {
  for (uint64_t id : finished_workers_) {
    auto it = workers_.find(id);
    if (it == workers_.end()) continue;
    out.push_back(std::move(it->second));
    workers_.erase(it);
  }
  finished_workers_.clear();
}

bool CommandExecutor::waitIdle(Millis timeout) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [this] { return jobs_.empty(); });
}

void CommandExecutor::stop() {
  std::map<uint64_t, std::thread> workers;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [id, job] : jobs_) {
      if (job->started) job->stop.requestStop();
    }
    workers.swap(workers_);
    finished_workers_.clear();
  }
  for (auto& [id, t] : workers) {
    if (t.joinable()) t.join();
  }
}

ExecutorStats CommandExecutor::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace noa::agent::commands
