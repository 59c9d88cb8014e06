# The fuzz targets' seed corpora as a quick regression test in the normal (gcc) build, label
# `fuzz`: each target's LLVMFuzzerTestOneInput over tests/fuzz/corpus/<target>/ through a plain
# main (corpus_main.cc), no clang or libFuzzer needed. Under NOA_SANITIZE this runs with the
# sanitizers too. The fuzzers themselves are NOA_FUZZ builds (CMakeLists.txt here).
if(NOA_FUZZ)
  return()
endif()
include(${CMAKE_CURRENT_LIST_DIR}/targets.cmake)
foreach(target ${NOA_FUZZ_TARGETS})
  add_executable(fuzz_${target}_corpus ${NOA_FUZZ_${target}_SOURCES} ${NOA_FUZZ_DIR}/corpus_main.cc)
  target_link_libraries(fuzz_${target}_corpus PRIVATE noa_compile_options ${NOA_FUZZ_${target}_LIBS}
                        ${NOA_FUZZ_${target}_REGRESS_LIBS})
  add_test(NAME fuzz_corpus.${target}
           COMMAND fuzz_${target}_corpus ${NOA_FUZZ_DIR}/corpus/${target})
  set_tests_properties(fuzz_corpus.${target} PROPERTIES LABELS "fuzz;unit" TIMEOUT 120)
endforeach()
