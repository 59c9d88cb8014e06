#pragma once

// Runs the lease guard (lease_guard.h) for real: feeds it the controller's grants (from the
// session), the service's role (from the probes), the service's process (service_watch.h) and
// the controller's `fence` / `unfence` orders (actions), persists its state (fence_state.h)
// before acting on it, and applies what it decides through a ServiceFence.
//
// Threads: a ticker re-evaluates the guard at its next deadline (at most `tick` apart), so the
// primary is fenced AT the lease deadline, not at the next report; a worker runs the fence calls,
// which block (pg_ctl stop takes seconds), one at a time and never on the session thread.
// Inputs evaluate the guard at once on the caller's thread (a few comparisons; a file write
// only when the fence state changes). Thread-safe.

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agent/actions/action.h"
#include "agent/replication/service_fence.h"
#include "agent/runtime/fence_state.h"
#include "agent/runtime/lease_guard.h"
#include "agent/runtime/service_watch.h"
#include "common/clock.h"
#include "common/status.h"

namespace noa::agent {

struct AgentFencingOptions {
  LeaseGuardOptions guard;
  std::string state_dir;  // fence.json lives here
  Millis tick{50};
  // How long a fence / unfence action waits for the service when its command has no deadline.
  Millis default_action_timeout{60000};
  // How long a promotion waits for the controller's first grant (awaitLease).
  Millis promote_lease_wait{5000};
};

struct AgentFencingHooks {
  // The role from the latest probe result ("primary" | "replica" | "" when down or unknown).
  std::function<std::string()> role;
  // The fence state changed (`to_fenced`, reason label): report now, count it. Called with no
  // lock held, from whichever thread made the change.
  std::function<void(bool to_fenced, std::string_view reason)> on_transition;
  // Ask the session for a report now (its ack carries the next grant).
  std::function<void()> request_report;
};

class AgentFencing {
 public:
  // Reads the persisted fence state (an unreadable file counts as a "no_lease" fence: only a
  // grant from the controller lifts it). Nothing runs until start().
  static std::unique_ptr<AgentFencing> create(AgentFencingOptions options, Clock& clock,
                                              std::unique_ptr<replication::ServiceFence> fence,
                                              AgentFencingHooks hooks);
  ~AgentFencing();  // stop()
  AgentFencing(const AgentFencing&) = delete;
  AgentFencing& operator=(const AgentFencing&) = delete;

  void start();
  // Ends both threads (a running fence call first completes). The service is left as it is.
  void stop();

  // Session thread: the controller granted the lease until `deadline` in term `epoch`.
  void onGrant(MonoTime deadline, uint64_t epoch);
  // Service watch thread.
  void onServiceProcess(ProcessState state, pid_t pid);

  // The `fence` action: the controller's order, confirmed only once the service accepts no
  // writes. Details: {fenced, method, was_role, reason, epoch, persisted}.
  actions::ActionResult runFence(const actions::ActionContext& context);
  // The `unfence` action: lifts a controller-ordered fence (the lease rule still applies).
  // Details: {fenced, reason, method}.
  actions::ActionResult runUnfence(const actions::ActionContext& context);

  // Before a controller-ordered promotion runs: waits until this agent holds a valid lease
  // (asking for a report at once, whose ack brings it). The controller makes the candidate the
  // lease holder before it sends the promote command, so the grant is one round trip away;
  // without this, the guard would fence the server it just promoted (no lease yet), and with
  // PostgreSQL that means stopping it. FailedPrecondition when no grant comes in time: the
  // promotion does not run (the controller moves on), so no primary ever takes writes without
  // a lease.
  Status awaitLease(const actions::ActionContext& context);

  // fenced, fenced_by, fence_applied, lease_epoch, lease_valid.
  void fillAttributes(std::map<std::string, std::string>& attributes) const;
  bool fenced() const;
  // The lease guard's view for the pod labeler: valid lease now, and fenced (any reason).
  struct LeaseView {
    bool lease_valid = false;
    bool fenced = false;
  };
  LeaseView leaseView() const;
  std::string_view method() const { return method_; }

 private:
  AgentFencing(AgentFencingOptions options, Clock& clock,
               std::unique_ptr<replication::ServiceFence> fence, AgentFencingHooks hooks,
               std::optional<FenceRecord> restored);
  struct Transition {
    bool happened = false;
    bool to_fenced = false;
    std::string reason;
  };
  // Steps the guard: persists and logs a state change, hands an action to the worker.
  // REQUIRES: mu_ held. Returns the transition to announce once the lock is released.
  Transition stepLocked(MonoTime& next_check);
  void announce(const Transition& t);
  void tickLoop();
  void workLoop();
  MonoTime actionDeadline(const actions::ActionContext& context) const;

  AgentFencingOptions options_;
  Clock& clock_;
  std::unique_ptr<replication::ServiceFence> fence_;
  const std::string method_;
  AgentFencingHooks hooks_;
  FenceStateFile file_;

  mutable std::mutex mu_;
  std::condition_variable tick_cv_;  // an input arrived, or stop
  std::condition_variable work_cv_;  // an action for the worker, or stop
  std::condition_variable done_cv_;  // a fence call finished (the actions wait on it)
  LeaseGuard guard_;
  FenceAction pending_ = FenceAction::kNone;
  std::string unfence_cause_;  // why the next lift happens: "lease" | "unfence_command" | ...
  bool persisted_ = true;      // the last state change reached the disk
  std::string last_error_;     // of the last failed fence call
  uint64_t consecutive_failures_ = 0;
  bool stopping_ = false;
  std::thread ticker_;
  std::thread worker_;
};

}  // namespace noa::agent
