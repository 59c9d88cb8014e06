#pragma once

// The agent's own Prometheus metrics, declared once. Probe series are created up front for every
// probe (so a scrape shows zeros, not gaps); session series mirror SessionStats at scrape time.
// Thread-safe.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "agent/collectors/prom_scraper.h"
#include "agent/commands/command_executor.h"
#include "agent/probes/checks.h"
#include "agent/probes/probe_spec.h"
#include "agent/probes/probe_state.h"
#include "agent/session/session.h"

namespace noa::agent {

class AgentMetrics {
 public:
  AgentMetrics(prometheus::Registry& registry, const std::vector<ProbeSpec>& probes);

  // Prober's on_attempt.
  void observeAttempt(const ProbeSpec& spec, const CheckOutcome& outcome, ProbeStatus status);

  // Brings the session series up to date (before each scrape).
  void syncSession(const SessionStats& stats);
  // Brings the service-scrape series up to date (before each scrape).
  void syncScrape(const PromScrapeStats& stats);
  // Brings noa_agent_commands_total{event} up to date (before each scrape).
  void syncCommands(const commands::ExecutorStats& stats);

  // A fence state change: noa_agent_fence_transitions_total{to="fenced"|"unfenced",reason}
  // (reason: no_lease | controller when fenced; lease_granted | unfence_command | replica when
  // lifted) and the gauge noa_agent_fenced.
  void observeFenceTransition(bool to_fenced, std::string_view reason);
  void setFenced(bool fenced) { fenced_->Set(fenced ? 1 : 0); }
  double fenceTransitionsForTest(bool to_fenced, const std::string& reason) const;
  double fencedForTest() const { return fenced_->Value(); }

  // noa_agent_pod_label_patches_total{result="ok"|"error"} (agent/runtime/pod_labeler.h).
  void observePodLabelPatch(bool ok);
  double podLabelPatchesForTest(bool ok) const {
    return (ok ? pod_label_ok_ : pod_label_error_)->Value();
  }

  double attemptsForTest(const std::string& probe) const;
  double failuresForTest(const std::string& probe) const;
  double stateForTest(const std::string& probe) const;

 private:
  struct ProbeSeries {
    prometheus::Counter* attempts;
    prometheus::Counter* failures;
    prometheus::Gauge* state;
    prometheus::Histogram* duration;
  };
  // Counters only go up: each sync adds what the session counted since the last one.
  struct Mirrored {
    prometheus::Counter* counter;
    uint64_t seen = 0;
  };
  void mirror(Mirrored& m, uint64_t now);

  std::map<std::string, ProbeSeries> probes_;  // fixed after construction
  mutable std::mutex mu_;                      // guards the mirrors
  Mirrored reports_sent_;
  Mirrored hellos_sent_;
  Mirrored acks_received_;
  Mirrored reconnects_;
  Mirrored rejected_;
  Mirrored scrapes_;
  Mirrored scrape_failures_;
  Mirrored scrape_skipped_lines_;
  std::map<std::string, Mirrored> command_events_;  // by event label
  prometheus::Family<prometheus::Counter>* fence_transitions_;
  prometheus::Gauge* fenced_;
  prometheus::Counter* pod_label_ok_;
  prometheus::Counter* pod_label_error_;
  prometheus::Gauge* registered_;
  prometheus::Gauge* queued_events_;
};

// The value of noa_agent_probe_state: 1 success, 0 failure, -1 unknown.
double probeStateValue(ProbeStatus status);

}  // namespace noa::agent
