noa_add_test(NAME noa_protocol_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/codec_test.cc ${CMAKE_CURRENT_LIST_DIR}/vectors_test.cc
  LIBS noa_protocol nlohmann_json::nlohmann_json)
target_compile_definitions(noa_protocol_test PRIVATE NOA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

# The same vectors, checked by an independent MessagePack implementation against the JSON Schema.
# Debian's interpreter, where python3-msgpack and python3-jsonschema are installed.
add_test(NAME protocol_vectors_python
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/protocol/check_vectors.py
          ${PROJECT_SOURCE_DIR}/schemas)
set_tests_properties(protocol_vectors_python PROPERTIES LABELS unit)
