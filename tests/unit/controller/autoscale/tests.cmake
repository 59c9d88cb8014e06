# Autoscaling: the 12 HPA reference vectors, decision behaviour on a fake clock (no flapping,
# missing metrics, scale from zero, failures), the policy loader and decision records.
noa_add_test(NAME noa_autoscale_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/hpa_vectors_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/autoscale_decision_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/autoscale_policy_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/command_actuators_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/kubernetes_actuator_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/autoscale_coordinator_test.cc
  LIBS noa_autoscale PkgConfig::HTTPLIB OpenSSL::SSL OpenSSL::Crypto)

# The REST routes and noactl's rendering of the autoscale state.
noa_add_test(NAME noa_autoscale_api_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/autoscale_handler_test.cc
  LIBS noa_api noa_cli noa_autoscale noa_commands noa_backups noa_failover noa_decisions
       PkgConfig::JWT OpenSSL::Crypto)
