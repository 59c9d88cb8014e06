#include "agent/runtime/agent_metrics.h"

namespace noa::agent {

double probeStateValue(ProbeStatus status) {
  switch (status) {
    case ProbeStatus::kSuccess:
      return 1;
    case ProbeStatus::kFailure:
      return 0;
    case ProbeStatus::kUnknown:
      return -1;
  }
  return -1;
}

AgentMetrics::AgentMetrics(prometheus::Registry& registry, const std::vector<ProbeSpec>& probes) {
  auto& attempts = prometheus::BuildCounter()
                       .Name("noa_agent_probe_attempts_total")
                       .Help("Probe attempts, by probe")
                       .Register(registry);
  auto& failures = prometheus::BuildCounter()
                       .Name("noa_agent_probe_failures_total")
                       .Help("Failed probe attempts (errors and timeouts), by probe")
                       .Register(registry);
  auto& state = prometheus::BuildGauge()
                    .Name("noa_agent_probe_state")
                    .Help("Probe status after thresholds: 1 success, 0 failure, -1 unknown")
                    .Register(registry);
  auto& duration = prometheus::BuildHistogram()
                       .Name("noa_agent_probe_duration_seconds")
                       .Help("How long probe attempts took, by probe")
                       .Register(registry);
  for (const auto& p : probes) {
    const prometheus::Labels labels = {{"probe", p.name},
                                       {"type", std::string(probeTypeName(p.type))},
                                       {"handler", std::string(handlerName(p.handler))}};
    // Buckets from 1 ms (a local PING) to the longest sensible timeout.
    ProbeSeries series{&attempts.Add(labels), &failures.Add(labels), &state.Add(labels),
                       &duration.Add(labels, prometheus::Histogram::BucketBoundaries{
                                                 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5})};
    series.state->Set(probeStateValue(ProbeStatus::kUnknown));
    probes_.emplace(p.name, series);
  }

  auto counter = [&](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({});
  };
  reports_sent_.counter = counter("noa_agent_reports_sent_total", "Reports handed to the socket");
  hellos_sent_.counter = counter("noa_agent_hellos_sent_total", "Hellos sent to the controller");
  acks_received_.counter =
      counter("noa_agent_acks_received_total", "Acks received from the controller");
  reconnects_.counter =
      counter("noa_agent_reconnects_total", "Controller connections dropped and made again");
  rejected_.counter = counter("noa_agent_rejected_by_controller_total",
                              "Messages the controller refused (ack with an error)");
  scrapes_.counter = counter("noa_agent_service_scrapes_total",
                             "Scrapes of the service's own Prometheus endpoint");
  scrape_failures_.counter = counter("noa_agent_service_scrape_failures_total",
                                     "Scrapes of the service's endpoint without a usable answer");
  scrape_skipped_lines_.counter =
      counter("noa_agent_service_scrape_skipped_lines_total",
              "Malformed lines skipped in the service's Prometheus text");
  auto& command_family = prometheus::BuildCounter()
                             .Name("noa_agent_commands_total")
                             .Help("Commands from the controller: received, duplicates answered "
                                   "without running, rejected, started, finished, cancels")
                             .Register(registry);
  for (const char* event :
       {"received", "duplicate", "rejected", "started", "finished", "cancel", "journal_error"}) {
    command_events_[event].counter = &command_family.Add({{"event", event}});
  }
  queued_events_ = &prometheus::BuildGauge()
                        .Name("noa_agent_outbox_events")
                        .Help("Command results and progress waiting to be sent to the controller")
                        .Register(registry)
                        .Add({});
  fence_transitions_ = &prometheus::BuildCounter()
                            .Name("noa_agent_fence_transitions_total")
                            .Help("Fence state changes of this agent's service: to fenced "
                                  "(reason no_lease|controller) or unfenced (reason "
                                  "lease_granted|unfence_command|replica)")
                            .Register(registry);
  for (const char* reason : {"no_lease", "controller"}) {
    fence_transitions_->Add({{"to", "fenced"}, {"reason", reason}});
  }
  for (const char* reason : {"lease_granted", "unfence_command", "replica"}) {
    fence_transitions_->Add({{"to", "unfenced"}, {"reason", reason}});
  }
  auto& pod_label = prometheus::BuildCounter()
                        .Name("noa_agent_pod_label_patches_total")
                        .Help("PATCH calls setting this pod's role label (--k8s-pod-label), "
                              "by result ok|error")
                        .Register(registry);
  pod_label_ok_ = &pod_label.Add({{"result", "ok"}});
  pod_label_error_ = &pod_label.Add({{"result", "error"}});
  fenced_ = &prometheus::BuildGauge()
                 .Name("noa_agent_fenced")
                 .Help("1 while the agent keeps its service from accepting writes (fenced)")
                 .Register(registry)
                 .Add({});
  registered_ = &prometheus::BuildGauge()
                     .Name("noa_agent_registered")
                     .Help("1 while the controller has welcomed this agent")
                     .Register(registry)
                     .Add({});
}

void AgentMetrics::observeAttempt(const ProbeSpec& spec, const CheckOutcome& outcome,
                                  ProbeStatus status) {
  auto it = probes_.find(spec.name);
  if (it == probes_.end()) return;
  it->second.attempts->Increment();
  if (!outcome.success) it->second.failures->Increment();
  it->second.state->Set(probeStateValue(status));
  it->second.duration->Observe(std::chrono::duration<double>(outcome.latency).count());
}

void AgentMetrics::mirror(Mirrored& m, uint64_t now) {
  if (now > m.seen) m.counter->Increment(static_cast<double>(now - m.seen));
  m.seen = now;
}

void AgentMetrics::syncSession(const SessionStats& stats) {
  std::lock_guard<std::mutex> lock(mu_);
  mirror(reports_sent_, stats.reports_sent.load());
  mirror(hellos_sent_, stats.hellos_sent.load());
  mirror(acks_received_, stats.acks_received.load());
  mirror(reconnects_, stats.reconnects.load());
  mirror(rejected_, stats.rejected_by_controller.load());
  registered_->Set(stats.registered.load() ? 1 : 0);
  queued_events_->Set(static_cast<double>(stats.queued_events.load()));
}

void AgentMetrics::syncScrape(const PromScrapeStats& stats) {
  std::lock_guard<std::mutex> lock(mu_);
  mirror(scrapes_, stats.scrapes);
  mirror(scrape_failures_, stats.failures);
  mirror(scrape_skipped_lines_, stats.skipped_lines);
}

void AgentMetrics::syncCommands(const commands::ExecutorStats& stats) {
  std::lock_guard<std::mutex> lock(mu_);
  mirror(command_events_["received"], stats.received);
  mirror(command_events_["duplicate"], stats.duplicates);
  mirror(command_events_["rejected"], stats.rejected);
  mirror(command_events_["started"], stats.started);
  mirror(command_events_["finished"], stats.finished);
  mirror(command_events_["cancel"], stats.cancels);
  mirror(command_events_["journal_error"], stats.journal_errors);
}

void AgentMetrics::observeFenceTransition(bool to_fenced, std::string_view reason) {
  fence_transitions_->Add({{"to", to_fenced ? "fenced" : "unfenced"}, {"reason", std::string(reason)}})
      .Increment();
  fenced_->Set(to_fenced ? 1 : 0);
}

void AgentMetrics::observePodLabelPatch(bool ok) {
  (ok ? pod_label_ok_ : pod_label_error_)->Increment();
}

double AgentMetrics::fenceTransitionsForTest(bool to_fenced, const std::string& reason) const {
  return fence_transitions_->Add({{"to", to_fenced ? "fenced" : "unfenced"}, {"reason", reason}})
      .Value();
}

double AgentMetrics::attemptsForTest(const std::string& probe) const {
  auto it = probes_.find(probe);
  return it == probes_.end() ? -1 : it->second.attempts->Value();
}
double AgentMetrics::failuresForTest(const std::string& probe) const {
  auto it = probes_.find(probe);
  return it == probes_.end() ? -1 : it->second.failures->Value();
}
double AgentMetrics::stateForTest(const std::string& probe) const {
  auto it = probes_.find(probe);
  return it == probes_.end() ? -2 : it->second.state->Value();
}

}  // namespace noa::agent
