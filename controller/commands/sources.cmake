# noa_commands: the controller's command channel core: records, the pure state machine, target
# resolution and the persisted CommandBook (no wiring: ingest and REST call it).
add_library(noa_commands STATIC
  ${CMAKE_CURRENT_LIST_DIR}/command_record.cc
  ${CMAKE_CURRENT_LIST_DIR}/command_transition.cc
  ${CMAKE_CURRENT_LIST_DIR}/command_target.cc
  ${CMAKE_CURRENT_LIST_DIR}/command_book.cc
)
target_link_libraries(noa_commands PUBLIC noa_common noa_registry noa_store)
