#pragma once

// The StateView the REST API reads: the in-memory registry for agents, the store for history,
// the Prometheus registry for /metrics. Thread-safe (each part is; scrapes are serialised
// because each one first recomputes the per-service gauges from a registry snapshot, and the
// backup gauges from the BackupCoordinator's status).

#include <prometheus/registry.h>

#include <mutex>
#include <optional>

#include "controller/api/state_view.h"
#include "controller/audit/audit_log.h"
#include "controller/autoscale/autoscale_coordinator.h"
#include "controller/backups/backup_coordinator.h"
#include "controller/backups/backup_metrics.h"
#include "controller/commands/command_book.h"
#include "controller/decisions/decision_log.h"
#include "controller/failover/failover_coordinator.h"
#include "controller/ingest/controller_metrics.h"
#include "controller/registry/registry.h"
#include "controller/store/store.h"

namespace noa::controller {

class ControllerState final : public StateView {
 public:
  ControllerState(ControllerInfo info, Registry& registry, Store& store,
                  prometheus::Registry& metrics)
      : info_(std::move(info)),
        registry_(registry),
        store_(store),
        metrics_(metrics),
        service_metrics_(metrics) {}

  // noa::controller::StateView
  ControllerInfo info() const override;
  std::vector<AgentRecord> agents() const override { return registry_.snapshot(); }
  std::optional<AgentRecord> agent(const std::string& agent_id) const override {
    return registry_.get(agent_id);
  }
  Result<std::vector<HistoryEntry>> history(const std::string& agent_id, int64_t since_ms,
                                            size_t limit) const override {
    return store_.readHistory(agent_id, since_ms, limit);
  }
  std::string metricsText() const override;
  Result<std::vector<AuditRecord>> audit(int64_t since_ms, size_t limit) const override;
  KeyRegistry* keys() const override { return keys_; }
  commands::CommandBook* commands() const override { return commands_; }
  backups::BackupCoordinator* backups() const override { return backups_; }
  failover::FailoverCoordinator* failover() const override { return failover_; }
  decisions::DecisionLog* decisions() const override { return decisions_; }
  autoscale::AutoscaleCoordinator* autoscale() const override { return autoscale_; }

  // Set once at start, before the REST API serves (not synchronised).
  void attachAudit(const AuditLog* audit) { audit_ = audit; }
  void attachKeys(KeyRegistry* keys) { keys_ = keys; }
  void attachCommands(commands::CommandBook* commands) { commands_ = commands; }
  // Also registers the backup gauges (once: a family name registers only once per registry).
  void attachBackups(backups::BackupCoordinator* backups) {
    backups_ = backups;
    if (backups_ != nullptr && !backup_metrics_) backup_metrics_.emplace(metrics_);
  }
  void attachFailover(failover::FailoverCoordinator* failover) { failover_ = failover; }
  void attachDecisions(decisions::DecisionLog* decisions) { decisions_ = decisions; }
  void attachAutoscale(autoscale::AutoscaleCoordinator* autoscale) { autoscale_ = autoscale; }
  // Each scrape sets noa_store_degraded from Store::health(), not only the ingest loop after a
  // commit: a write stuck on a frozen disk blocks that loop, so only the scrape can say "slow".
  void attachStoreGauge(ControllerMetrics* metrics) { store_gauge_ = metrics; }

 private:
  const ControllerInfo info_;
  Registry& registry_;
  Store& store_;
  prometheus::Registry& metrics_;
  mutable std::mutex scrape_mu_;
  mutable ServiceMetrics service_metrics_;  // GUARDED_BY(scrape_mu_)
  mutable std::optional<backups::BackupMetrics> backup_metrics_;  // GUARDED_BY(scrape_mu_)
  ControllerMetrics* store_gauge_ = nullptr;
  const AuditLog* audit_ = nullptr;
  KeyRegistry* keys_ = nullptr;
  commands::CommandBook* commands_ = nullptr;
  backups::BackupCoordinator* backups_ = nullptr;
  failover::FailoverCoordinator* failover_ = nullptr;
  decisions::DecisionLog* decisions_ = nullptr;
  autoscale::AutoscaleCoordinator* autoscale_ = nullptr;
};

}  // namespace noa::controller
