#pragma once

// The controller's own Prometheus metrics, declared once and injected (tests assert on them).

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/protocol/messages.h"
#include "common/status.h"
#include "controller/registry/service_view.h"

namespace noa::controller {

class ControllerMetrics {
 public:
  explicit ControllerMetrics(prometheus::Registry& registry);

  void countMessage(protocol::MessageType type, size_t bytes);
  void countRejected(std::string_view reason);
  void countTransition(std::string_view to_state);
  void setAgents(size_t alive, size_t suspect, size_t lost);
  void observeCommit(double seconds, bool ok);
  void observeDrain(size_t messages);
  // noa_store_degraded{reason}: 1 for the reason the store refuses writes ("no_space",
  // "corruption", "io_error") or "slow" (a write waiting over 2 s), all 0 while it is writable.
  // `status` is the last commit's, or Store::health() at a scrape.
  void setStoreStatus(const Status& status);
  void countHistoryPruned();
  // Command channel: agent events (kind progress|result) by outcome (applied, duplicate,
  // unknown_command, wrong_agent, store_error), sends by kind (first|resend|cancel), commands
  // finished by state.
  void countCommandEvent(std::string_view kind, std::string_view outcome);
  void countCommandSends(std::string_view kind, uint64_t count);
  void countCommandFinished(std::string_view state);

  double messagesForTest(protocol::MessageType type) const;
  double rejectedForTest(std::string_view reason);
  double transitionsForTest(std::string_view to_state);
  double commandEventsForTest(std::string_view kind, std::string_view outcome);

 private:
  prometheus::Family<prometheus::Counter>& messages_;
  // One series per message type, looked up once: a lookup by labels per message builds and
  // hashes a label map under the family's lock, on the ingest thread's hottest path.
  std::array<prometheus::Counter*, std::variant_size_v<protocol::Body>> messages_by_type_{};
  prometheus::Counter& bytes_;
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Family<prometheus::Counter>& transitions_;
  prometheus::Family<prometheus::Gauge>& agents_;
  prometheus::Histogram& commit_seconds_;
  prometheus::Histogram& drain_messages_;
  prometheus::Counter& commit_failures_;
  prometheus::Family<prometheus::Gauge>& store_degraded_;
  prometheus::Counter& history_prunes_;
  prometheus::Family<prometheus::Counter>& command_events_;
  prometheus::Family<prometheus::Counter>& command_sends_;
  prometheus::Family<prometheus::Counter>& commands_finished_;
};

// Per-service gauges, recomputed from the registry at every scrape (ControllerState calls
// update() then serialises): noa_service_replicas{service,state="known|alive|ready"},
// noa_service_{cpu,memory}_ratio_{avg,max}{service}, noa_service_metric_{summed,avg}
// {service,metric}, noa_service_primaries{service} and
// noa_service_replication_lag_bytes_max{service}. A series that has no value now (a service
// that is gone, an aggregate over no ready replica, a lag nobody knows) is removed rather than
// left at its last value. Not thread-safe: the caller serialises update() and the scrape.
class ServiceMetrics {
 public:
  explicit ServiceMetrics(prometheus::Registry& registry);

  void update(const std::vector<ServiceView>& services);

 private:
  // One family whose whole set of series is replaced on each update.
  class ScrapedFamily {
   public:
    explicit ScrapedFamily(prometheus::Family<prometheus::Gauge>& family) : family_(family) {}
    void replace(const std::map<prometheus::Labels, double>& values);

   private:
    prometheus::Family<prometheus::Gauge>& family_;
    std::map<prometheus::Labels, prometheus::Gauge*> series_;
  };

  ScrapedFamily replicas_;
  ScrapedFamily cpu_avg_;
  ScrapedFamily cpu_max_;
  ScrapedFamily memory_avg_;
  ScrapedFamily memory_max_;
  ScrapedFamily metric_sum_;
  ScrapedFamily metric_avg_;
  ScrapedFamily primaries_;
  ScrapedFamily lag_max_;
};

}  // namespace noa::controller
