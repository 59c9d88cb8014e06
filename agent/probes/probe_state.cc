#include "agent/probes/probe_state.h"

#include <algorithm>

namespace noa::agent {

std::string_view probeStatusName(ProbeStatus status) {
  switch (status) {
    case ProbeStatus::kUnknown:
      return "unknown";
    case ProbeStatus::kSuccess:
      return "success";
    case ProbeStatus::kFailure:
      return "failure";
  }
  return "unknown";
}

std::string truncateDetail(std::string detail) {
  if (detail.size() <= kMaxDetailBytes) return detail;
  size_t cut = kMaxDetailBytes;
  // Back off continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (cut > 0 && (static_cast<unsigned char>(detail[cut]) & 0xC0) == 0x80) --cut;
  detail.resize(cut);
  return detail;
}

ProbeState::ProbeState(ProbeSpec spec, MonoTime probing_began)
    : spec_(std::move(spec)), next_attempt_(probing_began + spec_.initial_delay) {}

bool ProbeState::finished() const {
  return spec_.type == ProbeType::kStartup && status_ == ProbeStatus::kSuccess;
}

bool ProbeState::record(const Attempt& attempt, MonoTime began) {
  ++attempts_;
  if (!attempt.success) ++failed_attempts_;
  last_latency_ = attempt.latency;
  last_detail_ = truncateDetail(attempt.detail);

  // Stay on the period grid; ticks that passed while a slow attempt ran are dropped, like the
  // kubelet's ticker, so a hanging service is not probed back to back.
  const MonoTime ended = began + attempt.latency;
  MonoTime next = began + spec_.period;
  if (next <= ended) {
    const auto overrun = ended - next;
    next += spec_.period * (overrun / spec_.period + 1);
  }
  next_attempt_ = next;

  if (attempt.success == last_success_ && run_ > 0) {
    ++run_;
  } else {
    last_success_ = attempt.success;
    run_ = 1;
  }
  const ProbeStatus before = status_;
  if (attempt.success && run_ >= spec_.success_threshold) status_ = ProbeStatus::kSuccess;
  if (!attempt.success && run_ >= spec_.failure_threshold) status_ = ProbeStatus::kFailure;
  return status_ != before;
}

protocol::ProbeState ProbeState::toProtocol() const {
  protocol::ProbeState out;
  out.name = spec_.name;
  out.kind = std::string(probeTypeName(spec_.type));
  out.state = std::string(probeStatusName(status_));
  out.consecutive_successes = consecutiveSuccesses();
  out.consecutive_failures = consecutiveFailures();
  const int64_t us = last_latency_.count();
  out.latency_us = static_cast<uint32_t>(std::clamp<int64_t>(us, 0, UINT32_MAX));
  out.detail = last_detail_;
  return out;
}

ProbeSet::ProbeSet(std::vector<ProbeSpec> specs, MonoTime probing_began) {
  probes_.reserve(specs.size());
  for (auto& spec : specs) probes_.emplace_back(std::move(spec), probing_began);
}

bool ProbeSet::started() const {
  return std::all_of(probes_.begin(), probes_.end(), [](const ProbeState& p) {
    return p.spec().type != ProbeType::kStartup || p.status() == ProbeStatus::kSuccess;
  });
}

bool ProbeSet::gated(size_t i) const {
  return probes_[i].spec().type != ProbeType::kStartup && !started();
}

bool ProbeSet::due(size_t i, MonoTime now) const {
  const ProbeState& p = probes_[i];
  return !p.finished() && !gated(i) && now >= p.nextAttemptAt();
}

std::optional<MonoTime> ProbeSet::wakeAt(size_t i) const {
  if (probes_[i].finished() || gated(i)) return std::nullopt;
  return probes_[i].nextAttemptAt();
}

bool ProbeSet::record(size_t i, const Attempt& attempt, MonoTime began) {
  return probes_[i].record(attempt, began);
}

protocol::Health ProbeSet::health() const {
  std::vector<protocol::ProbeState> states;
  states.reserve(probes_.size());
  for (const auto& p : probes_) states.push_back(p.toProtocol());
  return aggregateHealth(std::move(states));
}

protocol::Health aggregateHealth(std::vector<protocol::ProbeState> probes) {
  protocol::Health h;
  h.started = true;
  h.live = true;
  h.ready = true;
  for (const auto& p : probes) {
    if (p.kind == "startup" && p.state != "success") h.started = false;
    if (p.kind == "liveness" && p.state == "failure") h.live = false;
    if (p.kind == "readiness" && p.state != "success") h.ready = false;
  }
  if (probes.empty()) {
    h.state = "unknown";
  } else if (!h.started) {
    h.state = "starting";
  } else {
    h.state = h.live && h.ready ? "healthy" : "unhealthy";
  }
  h.probes = std::move(probes);
  return h;
}

}  // namespace noa::agent
