# The lazily opened libraries (agent/lazy): errors when one is missing, and calls through the
# shims. Deliberately linked without the real libpq / libarchive / libcrypto.
noa_add_test(NAME noa_lazy_libs_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/lazy_library_test.cc
  LIBS noa_lazy)
