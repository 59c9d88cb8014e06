# noa_autoscale: autoscaling with Kubernetes HPA semantics. The policy loader (the `autoscale:`
# sections of the policy file), the pure decision (per-metric proposals, stabilization, rate
# policies, conditions), decision records, actuators and the AutoscaleCoordinator.
add_library(noa_autoscale STATIC
  ${CMAKE_CURRENT_LIST_DIR}/autoscale_policy.cc
  ${CMAKE_CURRENT_LIST_DIR}/autoscale_names.cc
  ${CMAKE_CURRENT_LIST_DIR}/replica_calculator.cc
  ${CMAKE_CURRENT_LIST_DIR}/autoscale_decision.cc
  ${CMAKE_CURRENT_LIST_DIR}/autoscale_record.cc
  ${CMAKE_CURRENT_LIST_DIR}/actuators/actuator.cc
  ${CMAKE_CURRENT_LIST_DIR}/actuators/command_actuators.cc
  ${CMAKE_CURRENT_LIST_DIR}/actuators/kubernetes_actuator.cc
  ${CMAKE_CURRENT_LIST_DIR}/actuators/local_actuator.cc
  ${CMAKE_CURRENT_LIST_DIR}/autoscale_metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/autoscale_coordinator.cc
)
target_link_libraries(noa_autoscale PUBLIC noa_common noa_policy noa_decisions noa_store noa_registry
                      nlohmann_json::nlohmann_json prometheus-cpp::core PRIVATE yaml-cpp PkgConfig::HTTPLIB OpenSSL::SSL OpenSSL::Crypto)
