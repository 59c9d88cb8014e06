# The four fuzz targets and the production sources each one exercises, shared by the libFuzzer
# build (CMakeLists.txt, NOA_FUZZ=ON, clang) and the seed-corpus regression tests of the normal
# build (tests.cmake). Targets compile only the sources they fuzz rather than whole module
# libraries, so the clang build stays a few minutes on 2 cores.
set(NOA_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
set(NOA_FUZZ_TARGETS protocol_decode rest_bodies prom_text policy_yaml)

set(NOA_FUZZ_protocol_decode_SOURCES ${NOA_FUZZ_DIR}/protocol_decode_fuzzer.cc)
set(NOA_FUZZ_protocol_decode_LIBS noa_protocol)

# The REST body parsers live in the handlers' anonymous namespaces; each rest_bodies/*.cc
# includes one handler file to reach them (see rest_bodies/rest_bodies.h).
set(NOA_FUZZ_rest_bodies_SOURCES
  ${NOA_FUZZ_DIR}/rest_bodies_fuzzer.cc
  ${NOA_FUZZ_DIR}/rest_bodies/commands_bodies.cc
  ${NOA_FUZZ_DIR}/rest_bodies/backups_bodies.cc
  ${NOA_FUZZ_DIR}/rest_bodies/failover_bodies.cc
  ${NOA_FUZZ_DIR}/rest_bodies/autoscale_bodies.cc
  ${PROJECT_SOURCE_DIR}/controller/api/request_body.cc
  ${PROJECT_SOURCE_DIR}/controller/api/problem.cc
  ${PROJECT_SOURCE_DIR}/controller/api/api_types.cc)
set(NOA_FUZZ_rest_bodies_LIBS noa_base nlohmann_json::nlohmann_json prometheus-cpp::core)
# The normal build has every library already, so its regression test resolves the handlers'
# calls for real (the fuzz build leaves them unresolved, CMakeLists.txt).
set(NOA_FUZZ_rest_bodies_REGRESS_LIBS noa_api noa_commands noa_backups noa_failover noa_autoscale
  noa_decisions)

set(NOA_FUZZ_prom_text_SOURCES ${NOA_FUZZ_DIR}/prom_text_fuzzer.cc
  ${PROJECT_SOURCE_DIR}/agent/collectors/prom_text.cc)
set(NOA_FUZZ_prom_text_LIBS noa_compile_options)

# What the controller reads from --policy-file at start (controller_config.cc): backups,
# failover and autoscale sections of one YAML file.
set(NOA_FUZZ_policy_yaml_SOURCES ${NOA_FUZZ_DIR}/policy_yaml_fuzzer.cc
  ${PROJECT_SOURCE_DIR}/controller/policy/yaml_fields.cc
  ${PROJECT_SOURCE_DIR}/controller/backups/backup_policy.cc
  ${PROJECT_SOURCE_DIR}/controller/backups/cron.cc
  ${PROJECT_SOURCE_DIR}/controller/failover/failover_policy.cc
  ${PROJECT_SOURCE_DIR}/controller/autoscale/autoscale_policy.cc
  ${PROJECT_SOURCE_DIR}/controller/autoscale/autoscale_names.cc)
set(NOA_FUZZ_policy_yaml_LIBS noa_base yaml-cpp)
