add_library(noa_transport STATIC
  ${CMAKE_CURRENT_LIST_DIR}/router_socket.cc
  ${CMAKE_CURRENT_LIST_DIR}/dealer_socket.cc
)
target_link_libraries(noa_transport PUBLIC noa_base cppzmq)
