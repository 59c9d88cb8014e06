#include "agent/runtime/agent_fencing.h"

#include <algorithm>

#include "common/log.h"

namespace noa::agent {

std::unique_ptr<AgentFencing> AgentFencing::create(
    AgentFencingOptions options, Clock& clock, std::unique_ptr<replication::ServiceFence> fence,
    AgentFencingHooks hooks) {
  FenceStateFile file(options.state_dir);
  std::optional<FenceRecord> restored;
  auto loaded = file.load();
  if (!loaded.ok()) {
    // We cannot tell what we had decided; the safe reading is "fenced until the controller
    // grants us the lease again", which it does only to its leader.
    log::error("fence state unreadable; fencing until the controller grants the lease",
               {{"path", file.path()}, {"error", loaded.status().toString()}});
    restored = FenceRecord{FenceReason::kNoLease, 0, toUnixMillis(clock.wallNow())};
  } else if (loaded->has_value()) {
    restored = **loaded;
    log::warn("fence state restored; applying it again",
              {{"reason", std::string(fenceReasonName(restored->reason))},
               {"epoch", restored->epoch},
               {"since", formatRfc3339(fromUnixMillis(restored->since_ms))}});
  }
  return std::unique_ptr<AgentFencing>(
      new AgentFencing(std::move(options), clock, std::move(fence), std::move(hooks), restored));
}

AgentFencing::AgentFencing(AgentFencingOptions options, Clock& clock,
                           std::unique_ptr<replication::ServiceFence> fence,
                           AgentFencingHooks hooks, std::optional<FenceRecord> restored)
    : options_(std::move(options)),
      clock_(clock),
      fence_(std::move(fence)),
      method_(fence_->method()),
      hooks_(std::move(hooks)),
      file_(options_.state_dir),
      guard_(options_.guard, clock.now(), restored) {}

AgentFencing::~AgentFencing() { stop(); }

void AgentFencing::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (ticker_.joinable()) return;
  stopping_ = false;
  worker_ = std::thread([this] { workLoop(); });
  ticker_ = std::thread([this] { tickLoop(); });
}

void AgentFencing::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  tick_cv_.notify_all();
  work_cv_.notify_all();
  done_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  if (worker_.joinable()) worker_.join();
}

AgentFencing::Transition AgentFencing::stepLocked(MonoTime& next_check) {
  GuardStep step = guard_.step(clock_.now(), clock_.wallNow());
  next_check = step.next_check;
  // An input may have changed the state before this step; the guard remembers what it was.
  const FenceReason before = step.previous;
  Transition t;
  const FenceReason after = guard_.reason();
  if (step.state_changed && after != before) {
    // Stored before it is acted on, so a restart resumes from what was decided.
    Status saved = file_.save(guard_.record());
    persisted_ = saved.ok();
    if (!saved.ok()) {
      log::error("cannot persist the fence state", {{"error", saved.toString()}});
    }
    t.happened = true;
    t.to_fenced = after != FenceReason::kNone;
    if (t.to_fenced) {
      t.reason = std::string(fenceReasonName(after));
    } else if (guard_.role() == ServiceRole::kReplica) {
      t.reason = "replica";
    } else {
      t.reason = unfence_cause_.empty() ? "lease_granted" : unfence_cause_;
    }
    unfence_cause_.clear();
    log::warn(t.to_fenced ? "fencing the service" : "lifting the fence",
              {{"reason", t.reason},
               {"was", std::string(fenceReasonName(before))},
               {"role", std::string(serviceRoleName(guard_.role()))},
               {"lease_valid", guard_.leaseValid(clock_.now())},
               {"epoch", guard_.highestEpoch().value_or(0)},
               {"method", method_}});
  }
  if (step.action != FenceAction::kNone) {
    pending_ = step.action;
    work_cv_.notify_one();
  }
  return t;
}

void AgentFencing::announce(const Transition& t) {
  if (t.happened && hooks_.on_transition) hooks_.on_transition(t.to_fenced, t.reason);
}

void AgentFencing::tickLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    // The probes' lock is taken outside ours: nothing may wait on us while holding it.
    lock.unlock();
    const std::string role = hooks_.role ? hooks_.role() : std::string();
    lock.lock();
    if (stopping_) break;
    guard_.setRole(parseServiceRole(role));
    MonoTime next{};
    const Transition t = stepLocked(next);
    if (t.happened) {
      lock.unlock();
      announce(t);
      lock.lock();
      continue;
    }
    // The guard names its next deadline; the tick bounds how stale the probes' role may get.
    const MonoTime now = clock_.now();
    const auto wait = std::clamp(std::chrono::duration_cast<Millis>(next - now), Millis(1),
                                 options_.tick);
    tick_cv_.wait_for(lock, wait);
  }
}

void AgentFencing::workLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [this] { return stopping_ || pending_ != FenceAction::kNone; });
    if (stopping_) return;
    const FenceAction action = pending_;
    pending_ = FenceAction::kNone;
    lock.unlock();
    const Status status = action == FenceAction::kFence ? fence_->fence() : fence_->unfence();
    lock.lock();
    const bool applied_before = guard_.fenceApplied();
    guard_.finished(action, status.ok(), clock_.now());
    // `fence_applied` is news for the controller too (a fence it may count on, or lost).
    const bool report = guard_.fenceApplied() != applied_before;
    const char* what = action == FenceAction::kFence ? "fence" : "unfence";
    if (status.ok()) {
      if (consecutive_failures_ > 0) {
        log::warn("fence call succeeded after failures",
                  {{"call", what}, {"failures", consecutive_failures_}});
      }
      consecutive_failures_ = 0;
      last_error_.clear();
      // Re-assertions repeat every second while fenced: only a change is worth a line.
      log::write(report || action == FenceAction::kUnfence ? log::Level::kInfo : log::Level::kDebug,
                 action == FenceAction::kFence ? "service fenced" : "service unfenced",
                 {{"method", method_}, {"reason", std::string(fenceReasonName(guard_.reason()))}});
    } else {
      ++consecutive_failures_;
      last_error_ = status.toString();
      // Retried every ~200 ms: log the first failure and then every few seconds.
      if (consecutive_failures_ == 1 || consecutive_failures_ % 25 == 0) {
        log::warn("fence call failed; retrying",
                  {{"call", what}, {"method", method_}, {"error", last_error_},
                   {"failures", consecutive_failures_}});
      }
    }
    done_cv_.notify_all();
    tick_cv_.notify_all();
    if (report && hooks_.request_report) {
      lock.unlock();
      hooks_.request_report();
      lock.lock();
    }
  }
}

void AgentFencing::onGrant(MonoTime deadline, uint64_t epoch) {
  Transition t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!guard_.grant(deadline, epoch)) {
      log::warn("lease grant from an older term ignored",
                {{"epoch", epoch}, {"highest", guard_.highestEpoch().value_or(0)}});
      return;
    }
    MonoTime next{};
    t = stepLocked(next);
  }
  tick_cv_.notify_all();  // the deadline moved
  done_cv_.notify_all();  // a promotion may wait for this grant
  announce(t);
}

Status AgentFencing::awaitLease(const actions::ActionContext& context) {
  if (hooks_.request_report) hooks_.request_report();
  Millis wait = options_.promote_lease_wait;
  if (context.timeout.count() > 0) wait = std::min(wait, context.timeout);
  std::unique_lock<std::mutex> lock(mu_);
  const MonoTime deadline = clock_.now() + wait;
  while (!guard_.leaseValid(clock_.now())) {
    if (stopping_ || (context.cancel != nullptr && context.cancel->stopRequested())) {
      return Status::Cancelled("cancelled while waiting for the leader lease");
    }
    if (clock_.now() >= deadline) {
      return Status::FailedPrecondition(
          "no leader lease granted within " + std::to_string(wait.count()) +
          " ms; not promoting (a primary must not take writes without the lease)");
    }
    done_cv_.wait_for(lock, Millis(20));
  }
  return Status::Ok();
}

void AgentFencing::onServiceProcess(ProcessState state, pid_t) {
  if (state != ProcessState::kRunning) return;
  // A PostgreSQL started again is not fenced on sight: pg.follow starts it as a standby, which
  // must keep running; one started by someone else as a primary is fenced as soon as the probe
  // reports it primary (LeaseGuard::setRole). A restarted Redis sheds its pause: re-fence now.
  if (fence_ != nullptr && fence_->method() == "pg_stop") return;
  Transition t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    guard_.serviceRestarted();
    MonoTime next{};
    t = stepLocked(next);
  }
  announce(t);
}

MonoTime AgentFencing::actionDeadline(const actions::ActionContext& context) const {
  return clock_.now() +
         (context.timeout.count() > 0 ? context.timeout : options_.default_action_timeout);
}

actions::ActionResult AgentFencing::runFence(const actions::ActionContext& context) {
  const MonoTime started = clock_.now();
  const MonoTime deadline = actionDeadline(context);
  actions::ActionResult result;
  std::unique_lock<std::mutex> lock(mu_);
  const std::string was_role = [&] {
    const auto name = serviceRoleName(guard_.role());
    return name.empty() ? std::string("unknown") : std::string(name);
  }();
  const uint64_t successes_before = guard_.fenceSuccesses();
  guard_.controllerFence(clock_.wallNow());
  MonoTime next{};
  Transition t = stepLocked(next);
  lock.unlock();
  announce(t);
  tick_cv_.notify_all();
  lock.lock();
  result.details = {{"method", method_}, {"was_role", was_role}};
  while (true) {
    const bool replica = guard_.role() == ServiceRole::kReplica;
    if (guard_.reason() == FenceReason::kController && guard_.fenceApplied() &&
        guard_.fenceSuccesses() > successes_before) {
      result.ok = true;
      result.details["fenced"] = true;
      break;
    }
    if (guard_.reason() == FenceReason::kNone && replica) {
      // A replica takes no writes: nothing to fence, and the order is moot.
      result.ok = true;
      result.details["fenced"] = false;
      break;
    }
    if (guard_.reason() != FenceReason::kController) {
      result.error_code = actions::kErrRefused;
      result.error = "the fence was lifted (unfence) before it was confirmed";
      break;
    }
    if (stopping_ || (context.cancel != nullptr && context.cancel->stopRequested())) {
      result.error_code = actions::kErrCancelled;
      result.error = "cancelled before the fence was confirmed; the fence stays ordered";
      break;
    }
    if (clock_.now() >= deadline) {
      result.error_code = actions::kErrTimeout;
      result.error = "the service still may accept writes: " +
                     (last_error_.empty() ? std::string("fence not confirmed in time") : last_error_) +
                     "; the fence stays ordered and is retried";
      break;
    }
    // Short slices: the cancel token has no condition variable of ours.
    done_cv_.wait_for(lock, Millis(50));
  }
  result.details["reason"] = std::string(fenceReasonName(guard_.reason()));
  result.details["epoch"] = guard_.highestEpoch().value_or(0);
  result.details["persisted"] = persisted_;
  result.duration = std::chrono::duration_cast<Millis>(clock_.now() - started);
  return result;
}

actions::ActionResult AgentFencing::runUnfence(const actions::ActionContext& context) {
  const MonoTime started = clock_.now();
  const MonoTime deadline = actionDeadline(context);
  actions::ActionResult result;
  std::unique_lock<std::mutex> lock(mu_);
  unfence_cause_ = "unfence_command";
  guard_.controllerUnfence();
  MonoTime next{};
  Transition t = stepLocked(next);
  unfence_cause_.clear();  // only this step's lift is the command's doing
  lock.unlock();
  announce(t);
  tick_cv_.notify_all();
  lock.lock();
  while (true) {
    if (guard_.reason() != FenceReason::kNone) {
      // The lease rule holds on its own: lifted when the controller grants the lease.
      result.ok = true;
      break;
    }
    if (guard_.unfenceApplied() && !guard_.busy() && pending_ == FenceAction::kNone) {
      result.ok = true;
      break;
    }
    if (stopping_ || (context.cancel != nullptr && context.cancel->stopRequested())) {
      result.error_code = actions::kErrCancelled;
      result.error = "cancelled before the service took writes again; the fence is lifted";
      break;
    }
    if (clock_.now() >= deadline) {
      result.error_code = actions::kErrTimeout;
      result.error = "the service does not take writes yet: " +
                     (last_error_.empty() ? std::string("unfence not confirmed in time") : last_error_);
      break;
    }
    done_cv_.wait_for(lock, Millis(50));
  }
  result.details = {{"fenced", guard_.reason() != FenceReason::kNone},
                    {"reason", std::string(fenceReasonName(guard_.reason()))},
                    {"method", method_}};
  result.duration = std::chrono::duration_cast<Millis>(clock_.now() - started);
  return result;
}

void AgentFencing::fillAttributes(std::map<std::string, std::string>& attributes) const {
  std::lock_guard<std::mutex> lock(mu_);
  const bool fenced = guard_.reason() != FenceReason::kNone;
  attributes["fenced"] = std::string(fenceReasonName(guard_.reason()));
  attributes["fenced_by"] = fenced ? method_ : "";
  attributes["fence_applied"] = guard_.fenceApplied() ? "1" : "0";
  const auto epoch = guard_.highestEpoch();
  attributes["lease_epoch"] = epoch ? std::to_string(*epoch) : "";
  attributes["lease_valid"] = guard_.leaseValid(clock_.now()) ? "1" : "0";
}

AgentFencing::LeaseView AgentFencing::leaseView() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {guard_.leaseValid(clock_.now()), guard_.reason() != FenceReason::kNone};
}

bool AgentFencing::fenced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return guard_.reason() != FenceReason::kNone;
}

}  // namespace noa::agent
