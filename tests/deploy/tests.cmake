# Deploy files (deploy/{docker,compose,k8s,prometheus,grafana,scripts}): offline validators, run
# as scripts. A validator that is not installed fails the test under CI=true and skips it (exit
# 77) elsewhere; which packages they need is in deploy/README.md ("Validation").
set(NOA_DEPLOY_TESTS ${CMAKE_CURRENT_LIST_DIR})

function(noa_deploy_test name script)
  add_test(NAME ${name} COMMAND bash ${NOA_DEPLOY_TESTS}/${script} ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 300)
endfunction()

noa_deploy_test(deploy_prometheus check_prometheus.sh)
noa_deploy_test(deploy_grafana check_grafana.sh)
if(TARGET noa-controller AND TARGET noa-agent)
  set(NOA_DEPLOY_BINS $<TARGET_FILE:noa-controller> $<TARGET_FILE:noa-agent>)
  noa_deploy_test(deploy_k8s check_k8s.sh ${NOA_DEPLOY_BINS})
  noa_deploy_test(deploy_compose check_compose.sh ${NOA_DEPLOY_BINS})
  noa_deploy_test(deploy_scripts check_scripts.sh ${NOA_DEPLOY_BINS})
  noa_deploy_test(deploy_docker check_docker.sh ${NOA_DEPLOY_BINS})
  noa_deploy_test(deploy_metric_names check_metric_names.sh ${NOA_DEPLOY_BINS})
endif()
# The local demo launcher, end to end on its own ports and directory (root, real PostgreSQL and
# Redis); noactl from the build when that target exists.
if(TARGET noa-controller AND TARGET noa-agent AND TARGET noactl)
  noa_deploy_test(deploy_local_demo check_local_demo.sh
    $<TARGET_FILE:noa-controller> $<TARGET_FILE:noa-agent> $<TARGET_FILE:noactl>)
endif()
