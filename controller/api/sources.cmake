# The REST API: cpp-httplib server, route table, one handler per resource, JSON views.
add_library(noa_api STATIC
  ${CMAKE_CURRENT_LIST_DIR}/access.cc
  ${CMAKE_CURRENT_LIST_DIR}/agent_json.cc
  ${CMAKE_CURRENT_LIST_DIR}/agents_handler.cc
  ${CMAKE_CURRENT_LIST_DIR}/api_metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/api_server.cc
  ${CMAKE_CURRENT_LIST_DIR}/api_types.cc
  ${CMAKE_CURRENT_LIST_DIR}/audit_handler.cc
  ${CMAKE_CURRENT_LIST_DIR}/autoscale_handler.cc
  ${CMAKE_CURRENT_LIST_DIR}/backups_handler.cc
  ${CMAKE_CURRENT_LIST_DIR}/commands_handler.cc
  ${CMAKE_CURRENT_LIST_DIR}/failover_handler.cc
  ${CMAKE_CURRENT_LIST_DIR}/health_handler.cc
  ${CMAKE_CURRENT_LIST_DIR}/keys_handler.cc
  ${CMAKE_CURRENT_LIST_DIR}/metrics_handler.cc
  ${CMAKE_CURRENT_LIST_DIR}/problem.cc
  ${CMAKE_CURRENT_LIST_DIR}/query_params.cc
  ${CMAKE_CURRENT_LIST_DIR}/request_body.cc
  ${CMAKE_CURRENT_LIST_DIR}/routes.cc
  ${CMAKE_CURRENT_LIST_DIR}/services_handler.cc
  ${CMAKE_CURRENT_LIST_DIR}/state_view.cc
  ${CMAKE_CURRENT_LIST_DIR}/time_param.cc
  ${CMAKE_CURRENT_LIST_DIR}/auth/api_security_config.cc
  ${CMAKE_CURRENT_LIST_DIR}/auth/authenticator.cc
  ${CMAKE_CURRENT_LIST_DIR}/auth/base64url.cc
  ${CMAKE_CURRENT_LIST_DIR}/auth/jwt_verifier.cc
  ${CMAKE_CURRENT_LIST_DIR}/auth/rate_limiter.cc
  ${CMAKE_CURRENT_LIST_DIR}/auth/roles.cc
  ${CMAKE_CURRENT_LIST_DIR}/auth/token_command.cc
  ${CMAKE_CURRENT_LIST_DIR}/auth/token_file.cc
)
target_link_libraries(noa_api PUBLIC noa_common noa_registry PkgConfig::HTTPLIB
                      nlohmann_json::nlohmann_json prometheus-cpp::core OpenSSL::Crypto OpenSSL::SSL
                      PRIVATE PkgConfig::JWT noa_security noa_commands noa_backups noa_failover noa_decisions
                      noa_autoscale)
