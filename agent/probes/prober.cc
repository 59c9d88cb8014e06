#include "agent/probes/prober.h"

#include <set>

#include "common/log.h"

namespace noa::agent {

CheckOutcome runSpecCheck(const ProbeSpec& spec, const StopToken& cancel) {
  return runCheck(spec.handler, spec.timeout, &cancel);
}

Result<std::unique_ptr<Prober>> Prober::create(std::vector<ProbeSpec> specs, Clock& clock,
                                               ProberCallbacks callbacks, CheckFn check) {
  std::set<std::string> names;
  for (const auto& spec : specs) {
    NOA_RETURN_IF_ERROR(validate(spec));
    if (!names.insert(spec.name).second) {
      return Status::InvalidArgument("probe '" + spec.name + "' is defined twice");
    }
  }
  return std::unique_ptr<Prober>(
      new Prober(std::move(specs), clock, std::move(callbacks), std::move(check)));
}

Prober::Prober(std::vector<ProbeSpec> specs, Clock& clock, ProberCallbacks callbacks, CheckFn check)
    : clock_(clock),
      callbacks_(std::move(callbacks)),
      check_(std::move(check)),
      set_(specs, clock.now()),
      specs_(std::move(specs)) {}

Prober::~Prober() { stop(); }

void Prober::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  // Initial delays count from here, not from construction.
  set_ = ProbeSet(specs_, clock_.now());
  for (size_t i = 0; i < specs_.size(); ++i) workers_.emplace_back([this, i] { work(i); });
}

void Prober::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cancel_.requestStop();
  wake_.notify_all();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
}

bool Prober::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_ && !stopping_;
}

ProbeSnapshot Prober::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ProbeSnapshot{set_.health(), facts_};
}

void Prober::work(size_t index) {
  const ProbeSpec& spec = specs_[index];
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (!set_.due(index, clock_.now())) {
      const auto wake_at = set_.wakeAt(index);
      if (wake_at) {
        wake_.wait_for(lock, *wake_at - clock_.now());
      } else {
        wake_.wait(lock);
      }
      continue;
    }
    lock.unlock();
    const MonoTime began = clock_.now();
    CheckOutcome outcome = check_(spec, cancel_);
    const auto latency =
        std::chrono::duration_cast<std::chrono::microseconds>(clock_.now() - began);
    outcome.latency = latency;
    lock.lock();
    if (stopping_) break;  // a cancelled attempt says nothing about the service
    const ProbeStatus before = set_.probe(index).status();
    const bool changed =
        set_.record(index, Attempt{outcome.success, latency, outcome.detail}, began);
    if (outcome.facts) facts_ = *outcome.facts;
    const ProbeStatus after = set_.probe(index).status();
    lock.unlock();

    if (changed) {
      const bool worse = after == ProbeStatus::kFailure;
      log::write(worse ? log::Level::kWarn : log::Level::kInfo, "probe state changed",
                 {{"probe", spec.name},
                  {"type", probeTypeName(spec.type)},
                  {"from", probeStatusName(before)},
                  {"to", probeStatusName(after)},
                  {"detail", truncateDetail(outcome.detail)}});
      // Gated probes wait for this (startup success opens liveness and readiness).
      wake_.notify_all();
    } else {
      log::debug("probe attempt", {{"probe", spec.name},
                                   {"success", outcome.success},
                                   {"latency_us", latency.count()},
                                   {"detail", truncateDetail(outcome.detail)}});
    }
    if (callbacks_.on_attempt) callbacks_.on_attempt(spec, outcome, after);
    if (changed && callbacks_.on_change) callbacks_.on_change();
    lock.lock();
  }
}

}  // namespace noa::agent
