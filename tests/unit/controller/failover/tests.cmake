# Failover: the policy file section, leader records, leases, candidate choice and the
# FailoverCoordinator over a real CommandBook and RocksDB (temporary directory) on a fake clock,
# with the agents' side played by applying results to the book. Also the decision log.
noa_add_test(NAME noa_failover_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/failover_policy_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/failover_plan_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/lease_table_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/failover_coordinator_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/decision_log_test.cc
  LIBS noa_failover noa_decisions noa_policy
  LABELS unit-concurrency)
