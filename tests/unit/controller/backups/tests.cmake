# The controller's backup library: cron, the policy file, entry codecs, retention and schedule
# decisions on a fake clock, and the BackupCatalog over a real RocksDB in a temporary directory.
noa_add_test(NAME noa_backups_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/cron_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/backup_policy_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/backup_entry_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/backup_catalog_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/retention_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/backup_schedule_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/backup_coordinator_test.cc
  LIBS noa_backups
  LABELS unit-concurrency)
