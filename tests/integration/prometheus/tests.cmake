# A real Prometheus server scrapes a real controller and agent; promtool lints both expositions.
if(TARGET noa-controller AND TARGET noa-agent)
  noa_add_test(NAME noa_prometheus_scrape_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/prometheus_scrape_test.cc
    LIBS noa_test_harness noa_test_servers
    LABELS integration)
  target_compile_definitions(noa_prometheus_scrape_test PRIVATE
    NOA_CONTROLLER_BIN="$<TARGET_FILE:noa-controller>"
    NOA_AGENT_BIN="$<TARGET_FILE:noa-agent>")
  add_dependencies(noa_prometheus_scrape_test noa-controller noa-agent)
endif()
