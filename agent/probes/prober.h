#pragma once

// Runs an agent's probes: one worker thread per probe, each attempt bounded by the probe's
// timeout, the state machine of probe_state.h deciding when to run and what the result means.
// Callbacks (on a worker thread, no lock held; keep them short and non-blocking):
//   on_attempt after every attempt, with the probe's status after it (metrics);
//   on_change  when any probe's status changed (the runtime asks the session for a report now).
// stop() returns once every worker has ended: a waiting worker at once, a running attempt when it
// finishes (exec attempts are cancelled; the others end within their timeout).
// Thread-safe.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/probes/checks.h"
#include "agent/probes/probe_spec.h"
#include "agent/probes/probe_state.h"
#include "common/clock.h"
#include "common/protocol/messages.h"
#include "common/stop_token.h"

namespace noa::agent {

// Runs one attempt; tests replace it. The token is requested when the prober stops.
using CheckFn = std::function<CheckOutcome(const ProbeSpec&, const StopToken& cancel)>;

// runCheck on the spec's handler with its timeout.
CheckOutcome runSpecCheck(const ProbeSpec& spec, const StopToken& cancel);

struct ProberCallbacks {
  std::function<void(const ProbeSpec&, const CheckOutcome&, ProbeStatus)> on_attempt;
  std::function<void()> on_change;
};

// What the probes know now, for a report.
struct ProbeSnapshot {
  protocol::Health health;
  ServiceFacts facts;  // from the latest attempt of a check that reports facts
};

class Prober {
 public:
  // Validates every spec (and that names are unique); nothing runs until start().
  static Result<std::unique_ptr<Prober>> create(std::vector<ProbeSpec> specs, Clock& clock,
                                                ProberCallbacks callbacks,
                                                CheckFn check = runSpecCheck);
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  void start();
  void stop();
  bool running() const;

  ProbeSnapshot snapshot() const;

 private:
  Prober(std::vector<ProbeSpec> specs, Clock& clock, ProberCallbacks callbacks, CheckFn check);
  void work(size_t index);

  Clock& clock_;
  ProberCallbacks callbacks_;
  CheckFn check_;
  StopToken cancel_;  // handed to attempts so that exec probes end with the prober

  mutable std::mutex mu_;
  std::condition_variable wake_;  // a probe changed (gating may have opened) or stop
  // State below is protected by mu_.
  ProbeSet set_;
  std::vector<ProbeSpec> specs_;  // copies for the workers, read-only after construction
  ServiceFacts facts_;
  bool stopping_ = false;
  bool started_ = false;

  std::vector<std::thread> workers_;
};

}  // namespace noa::agent
