# noa_failover: leader records, leases, the failover policy, candidate choice and the
# coordinator that promotes, fences and re-points members through agent commands.
add_library(noa_failover STATIC
  ${CMAKE_CURRENT_LIST_DIR}/failover_policy.cc
  ${CMAKE_CURRENT_LIST_DIR}/leader_record.cc
  ${CMAKE_CURRENT_LIST_DIR}/lease_table.cc
  ${CMAKE_CURRENT_LIST_DIR}/member_state.cc
  ${CMAKE_CURRENT_LIST_DIR}/failover_plan.cc
  ${CMAKE_CURRENT_LIST_DIR}/failover_coordinator.cc
  ${CMAKE_CURRENT_LIST_DIR}/failover_operations.cc
)
target_link_libraries(noa_failover PUBLIC noa_common noa_store noa_registry noa_commands noa_decisions
                      prometheus-cpp::core PRIVATE noa_policy)
