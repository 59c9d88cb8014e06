#include "agent/runtime/lease_guard.h"

#include <algorithm>

namespace noa::agent {

std::string_view fenceReasonName(FenceReason reason) {
  switch (reason) {
    case FenceReason::kNone:
      return "";
    case FenceReason::kNoLease:
      return "no_lease";
    case FenceReason::kController:
      return "controller";
  }
  return "";
}

std::optional<FenceReason> parseFenceReason(std::string_view name) {
  if (name.empty()) return FenceReason::kNone;
  if (name == "no_lease") return FenceReason::kNoLease;
  if (name == "controller") return FenceReason::kController;
  return std::nullopt;
}

ServiceRole parseServiceRole(std::string_view role) {
  if (role == "primary") return ServiceRole::kPrimary;
  if (role == "replica") return ServiceRole::kReplica;
  return ServiceRole::kUnknown;
}

std::string_view serviceRoleName(ServiceRole role) {
  switch (role) {
    case ServiceRole::kPrimary:
      return "primary";
    case ServiceRole::kReplica:
      return "replica";
    case ServiceRole::kUnknown:
      return "";
  }
  return "";
}

LeaseGuard::LeaseGuard(LeaseGuardOptions options, MonoTime start,
                       std::optional<FenceRecord> restored)
    : options_(options),
      grace_end_(start + (options.startup_grace.count() > 0 ? options.startup_grace : options.lease)) {
  if (restored && restored->reason != FenceReason::kNone) {
    record_ = *restored;
    // We may have died between deciding and applying, or the service shed the fence while we
    // were away: apply it again rather than trust it.
    applied_ = Applied::kUnknown;
    // A grant from a term older than the one we were fenced in must not lift the fence.
    if (restored->epoch > 0) epoch_ = restored->epoch;
  }
}

void LeaseGuard::setRole(ServiceRole role) {
  // A server that comes (back) up as primary under a fence has shed it if it is PostgreSQL
  // restarted by someone else; assert it again at once.
  if (role == ServiceRole::kPrimary && role_ != ServiceRole::kPrimary &&
      applied_ != Applied::kUnfenced) {
    reapply_ = true;
  }
  role_ = role;
}

bool LeaseGuard::grant(MonoTime deadline, uint64_t epoch) {
  if (epoch_.has_value() && epoch < *epoch_) return false;
  if (!epoch_.has_value() || epoch > *epoch_) {
    epoch_ = epoch;
    deadline_ = deadline;
  } else {
    // Same term: acks come in order, but never let a late one shorten the lease.
    deadline_ = deadline_.has_value() ? std::max(*deadline_, deadline) : deadline;
  }
  return true;
}

void LeaseGuard::controllerFence(WallTime) { fence_ordered_ = true; }

void LeaseGuard::controllerUnfence() {
  fence_ordered_ = false;
  if (record_.reason == FenceReason::kController) {
    // The lease rule still applies right after: step() fences again as "no_lease" if the
    // primary holds no valid lease.
    previous_ = changed_ ? previous_ : record_.reason;
    changed_ = true;
    record_ = FenceRecord{};
    retry_at_ = MonoTime{};
  }
}

void LeaseGuard::serviceRestarted() {
  if (applied_ != Applied::kUnfenced) reapply_ = true;
}

void LeaseGuard::setReason(FenceReason reason, WallTime wall_now) {
  if (reason == record_.reason) return;
  if (!changed_) previous_ = record_.reason;
  changed_ = true;
  if (reason == FenceReason::kNone) {
    record_ = FenceRecord{};
  } else {
    record_.reason = reason;
    record_.epoch = epoch_.value_or(0);
    record_.since_ms = toUnixMillis(wall_now);
  }
  // A retry delay belongs to the call that failed, not to the opposite one now wanted.
  retry_at_ = MonoTime{};
}

void LeaseGuard::evaluate(MonoTime now, WallTime wall_now) {
  if (options_.lease.count() <= 0) return;  // fencing off
  if (fence_ordered_) {
    fence_ordered_ = false;
    setReason(FenceReason::kController, wall_now);
    // The order must be confirmed by a fence call made after it, whatever was applied before.
    reapply_ = true;
  }
  if (role_ == ServiceRole::kReplica) {
    setReason(FenceReason::kNone, wall_now);
    return;
  }
  if (record_.reason == FenceReason::kNoLease && leaseValid(now)) {
    setReason(FenceReason::kNone, wall_now);
  }
  if (record_.reason == FenceReason::kNone && role_ == ServiceRole::kPrimary && !leaseValid(now) &&
      now >= grace_end_) {
    setReason(FenceReason::kNoLease, wall_now);
  }
}

GuardStep LeaseGuard::step(MonoTime now, WallTime wall_now) {
  evaluate(now, wall_now);
  GuardStep out;
  out.state_changed = changed_;
  out.previous = changed_ ? previous_ : record_.reason;
  changed_ = false;

  const bool want_fenced = record_.reason != FenceReason::kNone;
  const bool reassert_due = want_fenced && role_ == ServiceRole::kPrimary &&
                            applied_ == Applied::kFenced && now >= last_fence_ + options_.reassert;
  if (in_flight_ == FenceAction::kNone && now >= retry_at_) {
    if (want_fenced && (applied_ != Applied::kFenced || reapply_ || reassert_due)) {
      out.action = FenceAction::kFence;
      reapply_ = false;
    } else if (!want_fenced && applied_ != Applied::kUnfenced) {
      out.action = FenceAction::kUnfence;
    }
    in_flight_ = out.action;
  }

  // The next moment something can change without an input: the lease runs out, the startup
  // grace ends, a retry or a re-assertion is due.
  MonoTime next = now + std::chrono::seconds(1);
  auto consider = [&](MonoTime t) {
    if (t > now) next = std::min(next, t);
  };
  if (deadline_) consider(*deadline_);
  consider(grace_end_);
  consider(retry_at_);
  if (want_fenced && role_ == ServiceRole::kPrimary) consider(last_fence_ + options_.reassert);
  out.next_check = next;
  return out;
}

void LeaseGuard::finished(FenceAction action, bool ok, MonoTime now) {
  if (action == FenceAction::kNone) return;
  in_flight_ = FenceAction::kNone;
  if (action == FenceAction::kFence) {
    if (ok) {
      applied_ = Applied::kFenced;
      last_fence_ = now;
      ++fence_successes_;
    } else {
      // Partly applied, perhaps: an unfence is due if the rule changes its mind.
      applied_ = Applied::kUnknown;
      retry_at_ = now + options_.fence_retry;
    }
    return;
  }
  if (ok) {
    applied_ = Applied::kUnfenced;
    ++unfence_successes_;
  } else {
    applied_ = Applied::kUnknown;
    retry_at_ = now + options_.unfence_retry;
  }
}

}  // namespace noa::agent
