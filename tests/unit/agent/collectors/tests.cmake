# noa_collectors: parsers and collectors on fixture files with a fake clock (unit), and against
# a real HTTP server and real child processes (integration).
noa_add_test(NAME noa_collectors_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/prom_text_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/prom_metrics_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/cgroup_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/proc_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/counter_rates_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/metrics_collector_test.cc
  LIBS noa_collectors noa_test_harness)
target_compile_definitions(noa_collectors_test PRIVATE
  NOA_COLLECTORS_FIXTURES="${CMAKE_CURRENT_LIST_DIR}/fixtures")

noa_add_test(NAME noa_collectors_integration_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/collectors_integration_test.cc
  LIBS noa_collectors noa_test_harness
  LABELS integration)
