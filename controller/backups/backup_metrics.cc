#include "controller/backups/backup_metrics.h"

namespace noa::controller::backups {
namespace {

prometheus::Family<prometheus::Gauge>& gauge(prometheus::Registry& registry, const char* name,
                                             const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

double seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

}  // namespace

BackupMetrics::BackupMetrics(prometheus::Registry& registry)
    : rpo_ok_{gauge(registry, "noa_backup_rpo_ok",
                    "1 when the newest available backup is within the RPO target, by service")},
      newest_age_{gauge(registry, "noa_backup_newest_age_seconds",
                        "Age of the newest available backup's recovery point, by service")},
      rpo_target_{gauge(registry, "noa_backup_rpo_target_seconds",
                        "The RPO target of the service's backups")},
      drill_success_{gauge(registry, "noa_drill_last_success",
                           "1 when the newest restore drill succeeded, 0 when it failed")},
      drill_duration_{gauge(registry, "noa_drill_last_duration_seconds",
                            "Restore time of the newest successful restore drill (measured RTO)")},
      rto_target_{gauge(registry, "noa_drill_rto_target_seconds",
                        "The RTO target of the service's restore drills")} {}

void BackupMetrics::PerService::sync(const std::map<std::string, double>& values) {
  for (auto it = series.begin(); it != series.end();) {
    if (values.count(it->first) == 0) {
      family.Remove(it->second);
      it = series.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [service, value] : values) {
    prometheus::Gauge*& g = series[service];
    if (g == nullptr) g = &family.Add({{"service", service}});
    g->Set(value);
  }
}

void BackupMetrics::update(const std::vector<ServiceBackupStatus>& status) {
  std::map<std::string, double> rpo_ok, age, rpo_target, success, duration, rto_target;
  for (const ServiceBackupStatus& s : status) {
    rpo_ok[s.service] = s.rpo.ok ? 1 : 0;
    if (s.rpo.has_backup) age[s.service] = seconds(s.rpo.age_ms);
    rpo_target[s.service] = seconds(s.rpo.rpo_target_ms);
    if (s.last_drill) {
      success[s.service] = s.last_drill->ok ? 1 : 0;
      // A failed drill's duration is the time it took to fail: as an RTO it would either hide
      // the failure behind a fast number or raise a second, misleading "slower than RTO" alert.
      if (s.last_drill->ok) duration[s.service] = seconds(s.last_drill->restore_ms);
    }
    if (s.rto_target_ms > 0) rto_target[s.service] = seconds(s.rto_target_ms);
  }
  rpo_ok_.sync(rpo_ok);
  newest_age_.sync(age);
  rpo_target_.sync(rpo_target);
  drill_success_.sync(success);
  drill_duration_.sync(duration);
  rto_target_.sync(rto_target);
}

}  // namespace noa::controller::backups
