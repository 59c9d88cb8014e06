noa_add_test(NAME noa_service_view_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/service_view_test.cc
  LIBS noa_registry)
# The /metrics side: per-service gauges and ControllerState's scrape (with a store in /tmp).
noa_add_test(NAME noa_service_metrics_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/service_metrics_test.cc
  LIBS noa_controller)
noa_add_test(NAME noa_registry_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/registry_test.cc
  LIBS noa_registry)
