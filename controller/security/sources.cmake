# noa_security: enrollment of agent CURVE keys (key registry, allowlist file, ZAP decisions).
add_library(noa_security STATIC
  ${CMAKE_CURRENT_LIST_DIR}/allowlist.cc
  ${CMAKE_CURRENT_LIST_DIR}/channel_security.cc
  ${CMAKE_CURRENT_LIST_DIR}/channel_security_config.cc
  ${CMAKE_CURRENT_LIST_DIR}/key_metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/key_registry.cc
)
target_link_libraries(noa_security PUBLIC noa_common noa_store prometheus-cpp::core)
