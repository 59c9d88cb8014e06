# Benchmarks: executables only, never registered with CTest (they print figures, assert nothing).
if(TARGET noa-controller)
  add_executable(noa_ingest_bench
    ${CMAKE_CURRENT_LIST_DIR}/ingest_bench.cc
    ${CMAKE_CURRENT_LIST_DIR}/ingest_load.cc)
  target_link_libraries(noa_ingest_bench PRIVATE noa_test_harness noa_transport noa_protocol
    noa_store)
  target_include_directories(noa_ingest_bench PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(noa_ingest_bench PRIVATE
    NOA_CONTROLLER_BIN="$<TARGET_FILE:noa-controller>")
  add_dependencies(noa_ingest_bench noa-controller)
endif()
if(TARGET noa_controller)
  add_executable(noa_ingest_core_bench
    ${CMAKE_CURRENT_LIST_DIR}/ingest_core_bench.cc
    ${CMAKE_CURRENT_LIST_DIR}/ingest_load.cc)
  target_link_libraries(noa_ingest_core_bench PRIVATE noa_controller noa_transport)
  target_include_directories(noa_ingest_core_bench PRIVATE ${PROJECT_SOURCE_DIR})
endif()
if(TARGET noa_actions)
  add_executable(noa_backup_bench ${CMAKE_CURRENT_LIST_DIR}/backup_bench.cc)
  target_link_libraries(noa_backup_bench PRIVATE noa_actions noa_test_servers)
  target_include_directories(noa_backup_bench PRIVATE ${PROJECT_SOURCE_DIR})
endif()
if(TARGET noa-controller AND TARGET noa-agent AND TARGET noactl)
  add_executable(noa_command_bench ${CMAKE_CURRENT_LIST_DIR}/command_roundtrip.cc)
  target_link_libraries(noa_command_bench PRIVATE noa_test_harness)
  target_include_directories(noa_command_bench PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(noa_command_bench PRIVATE
    NOA_CONTROLLER_BIN="$<TARGET_FILE:noa-controller>"
    NOA_AGENT_BIN="$<TARGET_FILE:noa-agent>"
    NOA_CTL_BIN="$<TARGET_FILE:noactl>")
  add_dependencies(noa_command_bench noa-controller noa-agent noactl)
endif()
if(TARGET noa-controller AND TARGET noa-agent AND TARGET noactl)
  add_executable(noa_failover_bench ${CMAKE_CURRENT_LIST_DIR}/failover_bench.cc)
  target_link_libraries(noa_failover_bench PRIVATE noa_test_harness noa_test_servers
    PostgreSQL::PostgreSQL)
  target_include_directories(noa_failover_bench PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(noa_failover_bench PRIVATE
    NOA_CONTROLLER_BIN="$<TARGET_FILE:noa-controller>"
    NOA_AGENT_BIN="$<TARGET_FILE:noa-agent>"
    NOA_CTL_BIN="$<TARGET_FILE:noactl>")
  add_dependencies(noa_failover_bench noa-controller noa-agent noactl)
endif()
if(TARGET noa-controller)
  # One binary: the bench itself and, as `noa_scale_bench sim ...`, its simulated-agent processes.
  add_executable(noa_scale_bench
    ${CMAKE_CURRENT_LIST_DIR}/scale_bench.cc
    ${CMAKE_CURRENT_LIST_DIR}/scale_fleet.cc
    ${CMAKE_CURRENT_LIST_DIR}/scale_raw.cc
    ${CMAKE_CURRENT_LIST_DIR}/scale_sim.cc
    ${CMAKE_CURRENT_LIST_DIR}/zmtp_curve_client.cc
    ${CMAKE_CURRENT_LIST_DIR}/ingest_load.cc)
  target_link_libraries(noa_scale_bench PRIVATE noa_test_harness noa_transport noa_protocol
    noa_store)
  target_include_directories(noa_scale_bench PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(noa_scale_bench PRIVATE
    NOA_CONTROLLER_BIN="$<TARGET_FILE:noa-controller>")
  add_dependencies(noa_scale_bench noa-controller)
endif()
# The one test here: the load generator's own ZMTP 3.1 + CURVE client (zmtp_curve_client.h)
# against a real libzmq ROUTER with CURVE, ZAP and heartbeats. A generator that spoke the
# protocol wrongly would make every ingest figure wrong, so it is checked on every CI run.
add_executable(noa_zmtp_curve_client_check
  ${CMAKE_CURRENT_LIST_DIR}/zmtp_curve_client_check.cc
  ${CMAKE_CURRENT_LIST_DIR}/zmtp_curve_client.cc)
target_link_libraries(noa_zmtp_curve_client_check PRIVATE noa_compile_options noa_zmq)
add_test(NAME ZmtpCurveClient.SpeaksToARealLibzmqRouter COMMAND noa_zmtp_curve_client_check)
set_tests_properties(ZmtpCurveClient.SpeaksToARealLibzmqRouter PROPERTIES LABELS unit TIMEOUT 120)
