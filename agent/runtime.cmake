# noa_agent = the agent runtime (session, flags, probes wiring, local HTTP); noa-agent its main.
add_library(noa_agent STATIC
  ${CMAKE_CURRENT_LIST_DIR}/session/outbox.cc
  ${CMAKE_CURRENT_LIST_DIR}/session/session.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/agent_commands.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/agent_fencing.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/agent_config.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/agent_http.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/agent_metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/agent_probes.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/agent_runtime.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/fence_state.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/lease_guard.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/metrics_worker.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/pod_labeler.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/privileges.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/probe_report_source.cc
  ${CMAKE_CURRENT_LIST_DIR}/runtime/service_watch.cc
)
target_link_libraries(noa_agent PUBLIC noa_common noa_probes noa_collectors noa_agent_commands noa_replication prometheus-cpp::core
                      noa_agent_http nlohmann_json::nlohmann_json)
add_executable(noa-agent ${CMAKE_CURRENT_LIST_DIR}/main.cc)
target_link_libraries(noa-agent PRIVATE noa_agent)
target_link_options(noa-agent PRIVATE -Wl,--gc-sections)
