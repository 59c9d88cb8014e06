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
      commit_seconds_(prometheus::BuildHistogram()
                          .Name("noa_store_commit_seconds")
                          .Help("Latency of one store write batch")
                          .Register(registry)
                          .Add({}, prometheus::Histogram::BucketBoundaries{
                                       0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1})),
      commit_failures_(prometheus::BuildCounter()
                           .Name("noa_store_commit_failures_total")
                           .Help("Store write batches that failed")
                           .Register(registry)
                           .Add({})),
      history_prunes_(prometheus::BuildCounter()
                          .Name("noa_store_history_prunes_total")
                          .Help("History retention passes run")
                          .Register(registry)
                          .Add({})) {
  // Pre-create the label sets people alert on, so they read 0 instead of being absent.
  for (const char* state : {"alive", "suspect", "lost"}) {
    agents_.Add({{"state", state}});
    transitions_.Add({{"to", state}});
  }
}

void ControllerMetrics::countMessage(std::string_view type, size_t bytes) {
  messages_.Add({{"type", std::string(type)}}).Increment();
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

void ControllerMetrics::countHistoryPruned() { history_prunes_.Increment(); }

double ControllerMetrics::rejectedForTest(std::string_view reason) {
  return rejected_.Add({{"reason", std::string(reason)}}).Value();
}

double ControllerMetrics::transitionsForTest(std::string_view to_state) {
  return transitions_.Add({{"to", std::string(to_state)}}).Value();
}

}  // namespace noa::controller
