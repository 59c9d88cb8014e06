#pragma once

// The backup facts of GET /v1/backups/status as Prometheus gauges, by service, so that the
// alerts and dashboard of deploy/ can watch RPO and restore drills:
//   noa_backup_rpo_ok{service}                1 when the newest available backup is within
//                                             rpo_target, else 0 (also when there is none)
//   noa_backup_newest_age_seconds{service}    age of the newest available backup (absent when none)
//   noa_backup_rpo_target_seconds{service}    the service's rpo_target (the default without policy)
//   noa_drill_last_success{service}           1 when the newest restore drill succeeded, 0 when it
//                                             failed (absent before the first drill)
//   noa_drill_last_duration_seconds{service}  restore time of the newest drill, the measured RTO
//                                             (absent before the first drill, and when it failed:
//                                             the time to fail is no RTO)
//   noa_drill_rto_target_seconds{service}     the policy's drill rto_target (absent without drill)
// The values are recomputed from BackupCoordinator::status() at every scrape (ages move with the
// clock, not with events); a series with no value now, e.g. of a service that left the policy
// and the catalog, is removed rather than left at its last value.
//
// Not thread-safe: the caller serialises refresh() with the scrape (ControllerState holds its
// scrape mutex around both).

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <map>
#include <string>
#include <vector>

#include "controller/backups/backup_coordinator.h"

namespace noa::controller::backups {

class BackupMetrics {
 public:
  explicit BackupMetrics(prometheus::Registry& registry);

  void refresh(const BackupCoordinator& coordinator) { update(coordinator.status()); }
  void update(const std::vector<ServiceBackupStatus>& status);

 private:
  // One family and the services it has a series for.
  struct PerService {
    prometheus::Family<prometheus::Gauge>& family;
    std::map<std::string, prometheus::Gauge*> series;
    // Sets exactly `values`: adds and updates those, removes every other series.
    void sync(const std::map<std::string, double>& values);
  };

  PerService rpo_ok_;
  PerService newest_age_;
  PerService rpo_target_;
  PerService drill_success_;
  PerService drill_duration_;
  PerService rto_target_;
};

}  // namespace noa::controller::backups
