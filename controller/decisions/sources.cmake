# noa_decisions: the decision log (`decisions` family): every failover and autoscale decision,
# and every decision not to act, with its inputs and reason.
add_library(noa_decisions STATIC
  ${CMAKE_CURRENT_LIST_DIR}/decision_record.cc
  ${CMAKE_CURRENT_LIST_DIR}/decision_log.cc
)
target_link_libraries(noa_decisions PUBLIC noa_common noa_store nlohmann_json::nlohmann_json)
