# Fault trials (issue 9): kill -9 of the controller and of agents, network partitions in
# network namespaces, a full store disk, agent clock jumps. noa_fault_trials runs any number of
# trials of a kind and prints the tally (tests/faults/README.md); noa_fault_trials_test is CI's
# small share (a few trials per kind, label integration). Needs root (ip netns, mount).
if(TARGET noa-controller AND TARGET noa-agent AND TARGET noactl)
  add_library(noa_fault_lib STATIC
    ${CMAKE_CURRENT_LIST_DIR}/trial_util.cc
    ${CMAKE_CURRENT_LIST_DIR}/store_check.cc
    ${CMAKE_CURRENT_LIST_DIR}/netns.cc
    ${CMAKE_CURRENT_LIST_DIR}/redis_node.cc
    ${CMAKE_CURRENT_LIST_DIR}/controller_kill.cc
    ${CMAKE_CURRENT_LIST_DIR}/agent_kill.cc
    ${CMAKE_CURRENT_LIST_DIR}/partition.cc
    ${CMAKE_CURRENT_LIST_DIR}/store_trial.cc
    ${CMAKE_CURRENT_LIST_DIR}/disk_full.cc
    ${CMAKE_CURRENT_LIST_DIR}/slow_disk.cc
    ${CMAKE_CURRENT_LIST_DIR}/clock_jump.cc)
  target_link_libraries(noa_fault_lib PUBLIC noa_test_harness noa_test_servers noa_store PkgConfig::HIREDIS)
  target_include_directories(noa_fault_lib PUBLIC ${PROJECT_SOURCE_DIR})

  add_executable(noa_fault_trials ${CMAKE_CURRENT_LIST_DIR}/runner_main.cc)
  target_link_libraries(noa_fault_trials PRIVATE noa_fault_lib)
  add_dependencies(noa_fault_trials noa-controller noa-agent noactl)

  noa_add_test(NAME noa_fault_trials_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/fault_trials_test.cc
    LIBS noa_fault_lib
    LABELS integration)
  add_dependencies(noa_fault_trials_test noa-controller noa-agent noactl)
  foreach(target noa_fault_trials noa_fault_trials_test)
    target_compile_definitions(${target} PRIVATE
      NOA_CONTROLLER_BIN="$<TARGET_FILE:noa-controller>"
      NOA_AGENT_BIN="$<TARGET_FILE:noa-agent>"
      NOA_CTL_BIN="$<TARGET_FILE:noactl>")
  endforeach()
endif()
