#pragma once

// Turns the backup policy into commands and command results into the catalog. Runs on the
// controller's reconcile thread (tick(), about once a second) and serves the REST API's backup
// operations; every command it creates carries an `origin` so that its result means the same
// thing after a controller restart:
//   backup:<service>/<policy>     backup.pg_dump | snapshot.create (policy "" = manual)
//   verify:<backup id>            backup.verify on the agent that holds the artifact
//   restore:<backup id>           restore.pg_restore into a named database
//   drill:<service>/<backup id>   restore.pg_restore into a scratch database, timed (RTO)
//   retention:<service>/<policy>  retention.prune of what decideRetention() chose
// A succeeded backup command (also one an operator ran with `noactl run`) becomes a catalog
// entry; a failed one does not (its result, with pg_dump's stderr, stays on the command). The
// catalog is written after the command's result is stored, and a result already cataloged (by
// command id) is never added twice, so a crash in between only delays the entry to the next tick.
//
// Thread-safe: tick() and the REST calls may interleave (the catalog and the command book have
// their own locks; the scheduler state has this class's).

#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "controller/backups/backup_catalog.h"
#include "controller/backups/backup_policy.h"
#include "controller/backups/backup_schedule.h"
#include "controller/commands/command_book.h"
#include "controller/registry/agent_record.h"

namespace noa::controller::backups {

struct CoordinatorOptions {
  // Deadline of backup, verify, restore and drill commands: a dump must never sit forever.
  Millis command_timeout{std::chrono::hours(6)};
  Millis prune_timeout{std::chrono::minutes(10)};
  // How many recent commands one tick looks at for results to catalog.
  size_t scan_limit = 2000;
};

struct ServiceBackupStatus {
  std::string service;
  RpoStatus rpo;
  size_t available = 0;
  std::optional<BackupDrill> last_drill;  // the newest drill of any of its backups
  std::string last_drill_backup_id;
  int64_t rto_target_ms = 0;  // from the policy's drill (0 = no drill configured)
  bool has_policy = false;
};

class BackupCoordinator {
 public:
  using AgentsSnapshot = std::function<std::vector<AgentRecord>()>;

  BackupCoordinator(BackupCatalog& catalog, commands::CommandBook& commands,
                    AgentsSnapshot agents, PolicyFile policy, const Clock& clock,
                    CoordinatorOptions options = {});

  // Loads the scheduler's watermarks. Call once before tick().
  Status start();

  // Catalogs finished commands, fires due schedules, applies retention.
  void tick();

  // Operator actions (REST). Each returns the command it created.
  // A backup now: of `policy` (its kind, params and target), or with policy "" of the service's
  // first pg_dump policy, else a pg_dump of the service's primary with the agent's defaults.
  Result<commands::CommandRecord> backupNow(const std::string& service, const std::string& policy,
                                            const std::string& by);
  // Restores an available entry into `target_db` on the agent that holds it.
  Result<commands::CommandRecord> restore(const std::string& backup_id,
                                          const std::string& target_db, bool swap,
                                          const std::string& by);
  Result<commands::CommandRecord> verify(const std::string& backup_id, const std::string& by);
  // Restores the service's newest good pg_dump into a scratch database, which the action drops
  // again after counting its tables; the restore time is recorded against the RTO target.
  Result<commands::CommandRecord> drill(const std::string& service, const std::string& by);
  Result<BackupEntry> setPinned(const std::string& backup_id, bool pinned);

  // Per service with a policy or with entries, by name.
  std::vector<ServiceBackupStatus> status() const;

  BackupCatalog& catalog() { return catalog_; }
  const PolicyFile& policy() const { return policy_; }

 private:
  int64_t nowMs() const { return toUnixMillis(clock_.wallNow()); }
  Result<commands::CommandRecord> createCommand(const commands::TargetSpec& target,
                                                const std::string& action, nlohmann::json params,
                                                const std::string& origin, const std::string& by,
                                                Millis timeout, const std::string& reason = "");
  Result<commands::CommandRecord> startBackup(const BackupJobPolicy* job,
                                              const std::string& service, const std::string& by,
                                              const std::string& reason = "");
  // An agent of the service that can run `action`, per the target rule.
  Result<commands::TargetSpec> chooseTarget(const std::string& service, const BackupTarget& target,
                                            const std::string& action) const;
  void catalogFinished();
  void onFinished(const commands::CommandRecord& command);
  void catalogBackup(const commands::CommandRecord& command, const std::string& policy);
  void recordVerification(const commands::CommandRecord& command, const std::string& backup_id);
  void recordDrill(const commands::CommandRecord& command, const std::string& backup_id);
  void recordPrune(const commands::CommandRecord& command);
  void runSchedules();
  void applyRetention();
  // Backup ids that an unfinished restore, drill or verify works on (never pruned).
  std::set<std::string> inUse(std::set<std::string>* busy_origins) const;

  BackupCatalog& catalog_;
  commands::CommandBook& commands_;
  const AgentsSnapshot agents_;
  const PolicyFile policy_;
  const Clock& clock_;
  const CoordinatorOptions options_;

  mutable std::mutex mu_;
  ScheduleState schedule_;            // GUARDED_BY(mu_)
  std::set<std::string> handled_;     // GUARDED_BY(mu_): finished commands already looked at
};

}  // namespace noa::controller::backups
