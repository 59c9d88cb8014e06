add_library(noa_controller STATIC
  ${CMAKE_CURRENT_LIST_DIR}/ingest/controller_metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/ingest/ingest_core.cc
  ${CMAKE_CURRENT_LIST_DIR}/ingest/ingest_commands.cc
  ${CMAKE_CURRENT_LIST_DIR}/ingest/ingest_loop.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/controller.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/controller_config.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/controller_state.cc
)
target_link_libraries(noa_controller PUBLIC noa_common noa_registry noa_store noa_security noa_api noa_audit noa_commands noa_backups noa_decisions noa_failover noa_autoscale
                      prometheus-cpp::core)
add_executable(noa-controller ${CMAKE_CURRENT_LIST_DIR}/main.cc)
target_link_libraries(noa-controller PRIVATE noa_controller)
