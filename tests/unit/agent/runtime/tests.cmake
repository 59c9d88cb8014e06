noa_add_test(NAME noa_agent_runtime_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/metrics_wiring_test.cc
  LIBS noa_agent
  LABELS unit-concurrency)
# Leader lease guard, fence state, service watch and the fencing runtime (fake clock, fake fence).
noa_add_test(NAME noa_agent_fencing_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/lease_guard_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/fence_state_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/service_watch_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/agent_fencing_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/session_lease_test.cc
  LIBS noa_agent
  LABELS unit-concurrency)
# Kubernetes pod label for the primary: the decision, the schedule, the flags, and the PATCH
# against a Kubernetes API test double (local cpp-httplib SSLServer, self-signed certificate).
noa_add_test(NAME noa_agent_pod_labeler_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/pod_labeler_test.cc
  LIBS noa_agent noa_process PkgConfig::HTTPLIB OpenSSL::SSL OpenSSL::Crypto)
