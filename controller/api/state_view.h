#pragma once

// What the REST API may read from the running controller. Implemented by the controller's
// runtime (in-memory registry + store); tests implement it with fixed data. Thread-safe: the
// REST server calls it from its own threads.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "controller/registry/agent_record.h"

namespace noa::controller {

struct AuditRecord;  // controller/audit/audit_log.h
class KeyRegistry;   // controller/security/key_registry.h
namespace commands {
class CommandBook;  // controller/commands/command_book.h
}  // namespace commands
namespace backups {
class BackupCoordinator;  // controller/backups/backup_coordinator.h
}  // namespace backups
namespace failover {
class FailoverCoordinator;  // controller/failover/failover_coordinator.h
}  // namespace failover
namespace decisions {
class DecisionLog;  // controller/decisions/decision_log.h
}  // namespace decisions
namespace autoscale {
class AutoscaleCoordinator;  // controller/autoscale/autoscale_coordinator.h
}  // namespace autoscale

struct ControllerInfo {
  std::string controller_id;
  std::string version;
  int64_t started_at_ms = 0;
  std::string zmq_endpoint;
  std::string data_dir;
  uint32_t report_interval_ms = 1000;
  uint32_t suspect_after_intervals = 3;
  uint32_t lost_after_intervals = 5;
  Status store_health;  // OK or the sticky store error
};

class StateView {
 public:
  virtual ~StateView() = default;
  virtual ControllerInfo info() const = 0;
  virtual std::vector<AgentRecord> agents() const = 0;  // sorted by agent id
  virtual std::optional<AgentRecord> agent(const std::string& agent_id) const = 0;
  virtual Result<std::vector<HistoryEntry>> history(const std::string& agent_id, int64_t since_ms,
                                                    size_t limit) const = 0;
  // Prometheus text exposition of the controller's own metrics.
  virtual std::string metricsText() const = 0;
  // The audit log, newest first (see AuditLog::list). Unimplemented where there is none.
  virtual Result<std::vector<AuditRecord>> audit(int64_t since_ms, size_t limit) const;
  // Agent key enrollment; null when the agent channel runs without CURVE (--insecure-plaintext).
  // The registry is thread-safe; REST handlers change it.
  virtual KeyRegistry* keys() const { return nullptr; }
  // The command channel; null where there is none (REST answers 503). The book is
  // thread-safe; REST handlers create, cancel and wait on commands.
  virtual commands::CommandBook* commands() const { return nullptr; }
  // Backups: the catalog, the policy's schedules and the operator's backup actions; null when
  // the controller runs without them. Thread-safe.
  virtual backups::BackupCoordinator* backups() const { return nullptr; }
  // Leader records, switchover/failover/pause (null when not wired); thread-safe.
  virtual failover::FailoverCoordinator* failover() const { return nullptr; }
  // Every decision with its reasons (null when not wired); thread-safe.
  virtual decisions::DecisionLog* decisions() const { return nullptr; }
  // Autoscaling: per-service state, overrides and pauses (null when not wired); thread-safe.
  virtual autoscale::AutoscaleCoordinator* autoscale() const { return nullptr; }
};

}  // namespace noa::controller
