# The agent's HTTP client and server against real sockets on loopback (canned raw answers for
# what a well-behaved server never sends: chunks, stalls, redirects).
noa_add_test(NAME noa_agent_http_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_client_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/http_server_test.cc
  LIBS noa_agent_http noa_test_harness
  LABELS unit-concurrency)
