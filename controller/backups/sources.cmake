# noa_backups: the controller's backup library: cron schedules, the policy file, catalog
# entries and the persisted BackupCatalog, and the pure decisions (retention, due jobs, RPO).
# The BackupCoordinator turns policies into commands and command results into the catalog;
# BackupMetrics exports its per-service status (RPO, drills) as gauges at scrape time.
add_library(noa_backups STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cron.cc
  ${CMAKE_CURRENT_LIST_DIR}/backup_policy.cc
  ${CMAKE_CURRENT_LIST_DIR}/backup_entry.cc
  ${CMAKE_CURRENT_LIST_DIR}/backup_catalog.cc
  ${CMAKE_CURRENT_LIST_DIR}/retention.cc
  ${CMAKE_CURRENT_LIST_DIR}/backup_schedule.cc
  ${CMAKE_CURRENT_LIST_DIR}/backup_coordinator.cc
  ${CMAKE_CURRENT_LIST_DIR}/backup_metrics.cc
)
target_link_libraries(noa_backups PUBLIC noa_common noa_store noa_commands prometheus-cpp::core PRIVATE noa_policy yaml-cpp)
