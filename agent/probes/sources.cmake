add_library(noa_probes STATIC
  ${CMAKE_CURRENT_LIST_DIR}/probe_spec.cc
  ${CMAKE_CURRENT_LIST_DIR}/probe_state.cc
  ${CMAKE_CURRENT_LIST_DIR}/checks.cc
  ${CMAKE_CURRENT_LIST_DIR}/http_check.cc
  ${CMAKE_CURRENT_LIST_DIR}/tcp_check.cc
  ${CMAKE_CURRENT_LIST_DIR}/exec_check.cc
  ${CMAKE_CURRENT_LIST_DIR}/postgres_check.cc
  ${CMAKE_CURRENT_LIST_DIR}/redis_check.cc
  ${CMAKE_CURRENT_LIST_DIR}/prober.cc
)
target_link_libraries(noa_probes
  PUBLIC noa_common noa_process noa_agent_http noa_lazy PkgConfig::HIREDIS)
