#include "controller/ingest/controller_metrics.h"

namespace noa::controller {

ControllerMetrics::ControllerMetrics(prometheus::Registry& registry)
    : messages_(prometheus::BuildCounter()
                    .Name("noa_ingest_messages_total")
                    .Help("Messages received from agents, by type")
                    .Register(registry)),
      bytes_(prometheus::BuildCounter()
                 .Name("noa_ingest_bytes_total")
                 .Help("Bytes received from agents")
                 .Register(registry)
                 .Add({})),
      rejected_(prometheus::BuildCounter()
                    .Name("noa_ingest_rejected_total")
                    .Help("Messages from agents rejected, by reason")
                    .Register(registry)),
      transitions_(prometheus::BuildCounter()
                       .Name("noa_agent_state_transitions_total")
                       .Help("Agent liveness transitions, by new state")
                       .Register(registry)),
      agents_(prometheus::BuildGauge()
                  .Name("noa_agents")
                  .Help("Known agents, by liveness state")
                  .Register(registry)),
      commit_seconds_(
          prometheus::BuildHistogram()
              .Name("noa_store_commit_seconds")
              .Help("Latency of one store write batch")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.0005, 0.001, 0.005, 0.01,
                                                               0.05, 0.1, 0.5, 1})),
      drain_messages_(
          prometheus::BuildHistogram()
              .Name("noa_ingest_drain_messages")
              .Help("Agent messages handled per ingest pass (one store commit each)")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 5, 10, 20, 50, 100})),
      commit_failures_(prometheus::BuildCounter()
                           .Name("noa_store_commit_failures_total")
                           .Help("Store write batches that failed")
                           .Register(registry)
                           .Add({})),
      store_degraded_(prometheus::BuildGauge()
                          .Name("noa_store_degraded")
                          .Help("1 while the store refuses writes, by reason (no_space, "
                                "corruption, io_error), or a write has waited over 2 s (slow); "
                                "reports are not acknowledged then")
                          .Register(registry)),
      history_prunes_(prometheus::BuildCounter()
                          .Name("noa_store_history_prunes_total")
                          .Help("History retention passes run")
                          .Register(registry)
                          .Add({})),
      command_events_(prometheus::BuildCounter()
                          .Name("noa_command_events_total")
                          .Help("Command progress and results from agents, by kind and outcome")
                          .Register(registry)),
      command_sends_(prometheus::BuildCounter()
                         .Name("noa_command_sends_total")
                         .Help("Commands sent to agents: first sends, resends and cancels")
                         .Register(registry)),
      commands_finished_(prometheus::BuildCounter()
                             .Name("noa_commands_finished_total")
                             .Help("Commands that reached a terminal state, by state")
                             .Register(registry)) {
  for (size_t type = 0; type < messages_by_type_.size(); ++type) {
    messages_by_type_[type] = &messages_.Add(
        {{"type",
          std::string(protocol::messageTypeName(static_cast<protocol::MessageType>(type)))}});
  }
  // Pre-create the label sets people alert on, so they read 0 instead of being absent.
  for (const char* reason : {"no_space", "corruption", "io_error", "slow"}) {
    store_degraded_.Add({{"reason", reason}});
  }
  for (const char* state : {"alive", "suspect", "lost"}) {
    agents_.Add({{"state", state}});
    transitions_.Add({{"to", state}});
  }
  for (const char* state : {"succeeded", "failed", "timed_out", "cancelled"}) {
    commands_finished_.Add({{"state", state}});
  }
  for (const char* kind : {"first", "resend", "cancel"}) command_sends_.Add({{"kind", kind}});
}

void ControllerMetrics::countCommandEvent(std::string_view kind, std::string_view outcome) {
  command_events_.Add({{"kind", std::string(kind)}, {"outcome", std::string(outcome)}}).Increment();
}

void ControllerMetrics::countCommandSends(std::string_view kind, uint64_t count) {
  if (count == 0) return;
  command_sends_.Add({{"kind", std::string(kind)}}).Increment(static_cast<double>(count));
}

void ControllerMetrics::countCommandFinished(std::string_view state) {
  commands_finished_.Add({{"state", std::string(state)}}).Increment();
}

double ControllerMetrics::commandEventsForTest(std::string_view kind, std::string_view outcome) {
  return command_events_.Add({{"kind", std::string(kind)}, {"outcome", std::string(outcome)}})
      .Value();
}

void ControllerMetrics::countMessage(protocol::MessageType type, size_t bytes) {
  messages_by_type_[static_cast<size_t>(type)]->Increment();
  bytes_.Increment(static_cast<double>(bytes));
}

void ControllerMetrics::countRejected(std::string_view reason) {
  rejected_.Add({{"reason", std::string(reason)}}).Increment();
}

void ControllerMetrics::countTransition(std::string_view to_state) {
  transitions_.Add({{"to", std::string(to_state)}}).Increment();
}

void ControllerMetrics::setAgents(size_t alive, size_t suspect, size_t lost) {
  agents_.Add({{"state", "alive"}}).Set(static_cast<double>(alive));
  agents_.Add({{"state", "suspect"}}).Set(static_cast<double>(suspect));
  agents_.Add({{"state", "lost"}}).Set(static_cast<double>(lost));
}

void ControllerMetrics::observeCommit(double seconds, bool ok) {
  commit_seconds_.Observe(seconds);
  if (!ok) commit_failures_.Increment();
}

void ControllerMetrics::observeDrain(size_t messages) {
  drain_messages_.Observe(static_cast<double>(messages));
}

void ControllerMetrics::setStoreStatus(const Status& status) {
  std::string_view why;
  if (status.code() == StatusCode::kResourceExhausted)
    why = "no_space";
  else if (status.code() == StatusCode::kCorruption)
    why = "corruption";
  else if (status.code() == StatusCode::kDeadlineExceeded)
    why = "slow";
  else if (!status.ok())
    why = "io_error";
  for (const char* reason : {"no_space", "corruption", "io_error", "slow"}) {
    store_degraded_.Add({{"reason", reason}}).Set(why == reason ? 1 : 0);
  }
}

void ControllerMetrics::countHistoryPruned() { history_prunes_.Increment(); }

double ControllerMetrics::messagesForTest(protocol::MessageType type) const {
  return messages_by_type_[static_cast<size_t>(type)]->Value();
}

double ControllerMetrics::rejectedForTest(std::string_view reason) {
  return rejected_.Add({{"reason", std::string(reason)}}).Value();
}

double ControllerMetrics::transitionsForTest(std::string_view to_state) {
  return transitions_.Add({{"to", std::string(to_state)}}).Value();
}

namespace {

prometheus::Family<prometheus::Gauge>& gauge(prometheus::Registry& registry, const char* name,
                                             const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

}  // namespace

void ServiceMetrics::ScrapedFamily::replace(const std::map<prometheus::Labels, double>& values) {
  for (auto it = series_.begin(); it != series_.end();) {
    if (values.count(it->first) == 0) {
      family_.Remove(it->second);
      it = series_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [labels, value] : values) {
    auto [it, inserted] = series_.try_emplace(labels, nullptr);
    if (inserted) it->second = &family_.Add(labels);
    it->second->Set(value);
  }
}

ServiceMetrics::ServiceMetrics(prometheus::Registry& registry)
    : replicas_(gauge(registry, "noa_service_replicas",
                      "Agents of a service: known, alive (not suspect or lost), ready")),
      cpu_avg_(gauge(registry, "noa_service_cpu_ratio_avg",
                     "Average CPU use of a service's ready alive replicas, as a ratio of their "
                     "limit (or of one core)")),
      cpu_max_(gauge(registry, "noa_service_cpu_ratio_max",
                     "Highest CPU use among a service's ready alive replicas (ratio)")),
      memory_avg_(gauge(registry, "noa_service_memory_ratio_avg",
                        "Average memory use of a service's ready alive replicas, as a ratio of "
                        "their limit")),
      memory_max_(gauge(registry, "noa_service_memory_ratio_max",
                        "Highest memory use among a service's ready alive replicas (ratio)")),
      // Not "_sum": that suffix belongs to histograms and summaries (promtool refuses it here).
      metric_sum_(gauge(registry, "noa_service_metric_summed",
                        "A reported metric summed over a service's ready alive replicas")),
      metric_avg_(gauge(registry, "noa_service_metric_avg",
                        "A reported metric averaged over a service's ready alive replicas")),
      primaries_(gauge(registry, "noa_service_primaries",
                       "Members of a replicated service reporting primary, lost ones excluded")),
      lag_max_(gauge(registry, "noa_service_replication_lag_bytes_max",
                     "Largest replication lag among a service's replicas, in bytes")) {}

void ServiceMetrics::update(const std::vector<ServiceView>& services) {
  std::map<prometheus::Labels, double> replicas, cpu_avg, cpu_max, memory_avg, memory_max,
      metric_sum, metric_avg, primaries, lag_max;
  for (const ServiceView& s : services) {
    const prometheus::Labels service = {{"service", s.name}};
    auto with = [&service](const char* key, const std::string& value) {
      prometheus::Labels labels = service;
      labels[key] = value;
      return labels;
    };
    replicas[with("state", "known")] = static_cast<double>(s.known);
    replicas[with("state", "alive")] = static_cast<double>(s.alive);
    replicas[with("state", "ready")] = static_cast<double>(s.ready);
    if (s.cpu_ratio.count > 0) {
      cpu_avg[service] = s.cpu_ratio.avg;
      cpu_max[service] = s.cpu_ratio.max;
    }
    if (s.memory_ratio.count > 0) {
      memory_avg[service] = s.memory_ratio.avg;
      memory_max[service] = s.memory_ratio.max;
    }
    for (const auto& [name, aggregate] : s.metrics) {
      if (aggregate.count == 0) continue;
      metric_sum[with("metric", name)] = aggregate.sum;
      metric_avg[with("metric", name)] = aggregate.avg;
    }
    if (s.replication) {
      primaries[service] = static_cast<double>(s.replication->primaries.size());
      if (s.replication->max_lag_bytes) {
        lag_max[service] = static_cast<double>(*s.replication->max_lag_bytes);
      }
    }
  }
  replicas_.replace(replicas);
  cpu_avg_.replace(cpu_avg);
  cpu_max_.replace(cpu_max);
  memory_avg_.replace(memory_avg);
  memory_max_.replace(memory_max);
  metric_sum_.replace(metric_sum);
  metric_avg_.replace(metric_avg);
  primaries_.replace(primaries);
  lag_max_.replace(lag_max);
}

}  // namespace noa::controller
