add_library(noa_transport STATIC
  ${CMAKE_CURRENT_LIST_DIR}/router_socket.cc
  ${CMAKE_CURRENT_LIST_DIR}/dealer_socket.cc
  ${CMAKE_CURRENT_LIST_DIR}/curve_keys.cc
  ${CMAKE_CURRENT_LIST_DIR}/zap_handler.cc
  ${CMAKE_CURRENT_LIST_DIR}/wakeup.cc
)
target_link_libraries(noa_transport PUBLIC noa_base noa_zmq)  # libsodium (key ids) comes with noa_zmq
