#pragma once

// The agent's leader-lease guard: decides whether this agent's service must be fenced (stop
// accepting writes) and what to run to get there. A pure state machine: it is fed the time and
// its inputs and answers what to do; it never blocks, sleeps or touches the service itself
// (agent_fencing.h runs the fence calls it asks for and feeds their outcomes back).
//
// Rule: a primary accepts writes only while this agent holds a valid lease. The controller's
// acks grant the lease (deadline = when the acked report was sent + lease_ms), and the
// controller promotes another member only after its own, later deadline, so fencing AT our
// deadline keeps two primaries from ever taking writes together.
//   - primary, no valid lease, past the startup grace (lease + 3 reports)-> fenced "no_lease"
//   - fenced "no_lease" and a valid grant arrives                      -> unfenced (a
//     control-plane blip longer than the lease heals by itself, without a failover)
//   - the controller's `fence` order                                   -> fenced "controller",
//     kept until its `unfence` order or until the service runs as a replica
//   - a replica never needs a fence: any fence state clears
//
// The fence state (reason, epoch, since) is what is persisted (fence_state.h) so a restarted
// agent keeps a controller-ordered fence. What is actually applied to the service is tracked
// separately: a fence that failed is retried every `fence_retry` while the rule still says
// fence, and an applied fence is asserted again when the service may have shed it (it came
// back as primary, its process restarted, and every `reassert` while it runs as primary).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace noa::agent {

enum class ServiceRole { kUnknown, kPrimary, kReplica };  // unknown covers "down"
enum class FenceReason { kNone, kNoLease, kController };
enum class FenceAction { kNone, kFence, kUnfence };

// "" | "no_lease" | "controller" (the report's `fenced` attribute and the metrics' label).
std::string_view fenceReasonName(FenceReason reason);
std::optional<FenceReason> parseFenceReason(std::string_view name);
// "primary" -> kPrimary, "replica" -> kReplica, anything else (probe failed, "") -> kUnknown.
ServiceRole parseServiceRole(std::string_view role);
std::string_view serviceRoleName(ServiceRole role);  // "primary" | "replica" | ""

// The persisted part: restored at start so a controller's order survives an agent restart.
struct FenceRecord {
  FenceReason reason = FenceReason::kNone;
  uint64_t epoch = 0;   // the highest leader epoch seen when the fence began
  int64_t since_ms = 0;  // wall clock, unix ms: for people, never for decisions
  bool operator==(const FenceRecord&) const = default;
};

struct LeaseGuardOptions {
  Millis lease{2000};
  // How long a just-started agent's primary may run before its first grant: the hello, the
  // first probe and two reports (the controller names a leader on one, grants on the next).
  // 0 = the lease.
  Millis startup_grace{0};
  Millis fence_retry{200};
  Millis unfence_retry{1000};
  Millis reassert{500};  // a restarted Redis sheds its pause: take it back within this
};

// What step() asks for.
struct GuardStep {
  // Run this, then report its outcome with finished(). Never kFence/kUnfence while one runs.
  FenceAction action = FenceAction::kNone;
  // The fence state changed in this step (or an input before it): persist record(), report.
  bool state_changed = false;
  FenceReason previous = FenceReason::kNone;  // the reason before the change
  // Call step() again no later than this (a lease deadline, the grace's end, a retry).
  MonoTime next_check{};
};

class LeaseGuard {
 public:
  // `restored` is the record found on disk (nullopt: none). A restored fence counts as maybe
  // applied, so it is applied again (fencing is idempotent) before anything else.
  LeaseGuard(LeaseGuardOptions options, MonoTime start, std::optional<FenceRecord> restored = {});

  // Inputs. Each may change the fence state; step() reports that.
  void setRole(ServiceRole role);
  // A lease grant; false (ignored) when its epoch is below the highest seen.
  bool grant(MonoTime deadline, uint64_t epoch);
  void controllerFence(WallTime wall_now);
  // Clears a controller-ordered fence (a "no_lease" fence clears only with a grant).
  void controllerUnfence();
  // The service's process was seen starting again (a restarted server sheds Redis' pause).
  void serviceRestarted();

  GuardStep step(MonoTime now, WallTime wall_now);
  // The outcome of the action step() returned.
  void finished(FenceAction action, bool ok, MonoTime now);

  // Views (for reports, metrics and the fence action).
  FenceReason reason() const { return record_.reason; }
  const FenceRecord& record() const { return record_; }
  ServiceRole role() const { return role_; }
  bool leaseValid(MonoTime now) const { return deadline_.has_value() && now < *deadline_; }
  std::optional<uint64_t> highestEpoch() const { return epoch_; }
  std::optional<MonoTime> deadline() const { return deadline_; }
  // The fence is confirmed on the service (the last fence call succeeded and nothing since
  // suggests it was shed).
  bool fenceApplied() const { return applied_ == Applied::kFenced; }
  bool unfenceApplied() const { return applied_ == Applied::kUnfenced; }
  bool busy() const { return in_flight_ != FenceAction::kNone; }
  // Successful fence / unfence calls so far (the fence action waits for one after its order).
  uint64_t fenceSuccesses() const { return fence_successes_; }
  uint64_t unfenceSuccesses() const { return unfence_successes_; }

 private:
  enum class Applied { kUnknown, kFenced, kUnfenced };
  void evaluate(MonoTime now, WallTime wall_now);
  void setReason(FenceReason reason, WallTime wall_now);

  LeaseGuardOptions options_;
  MonoTime grace_end_;
  FenceRecord record_;
  ServiceRole role_ = ServiceRole::kUnknown;
  std::optional<MonoTime> deadline_;
  std::optional<uint64_t> epoch_;
  // An order from the controller, applied at the next step (needs the wall clock).
  bool fence_ordered_ = false;
  bool changed_ = false;
  FenceReason previous_ = FenceReason::kNone;

  Applied applied_ = Applied::kUnfenced;
  FenceAction in_flight_ = FenceAction::kNone;
  bool reapply_ = false;  // assert the fence again at the next step
  MonoTime retry_at_{};   // after a failed call, not before this
  MonoTime last_fence_{};
  uint64_t fence_successes_ = 0;
  uint64_t unfence_successes_ = 0;
};

}  // namespace noa::agent
