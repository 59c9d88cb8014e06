#!/usr/bin/env bash
# README command 2: installs what is needed, builds with warnings as errors, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash deploy/install-deps.sh
NOA_BUILD_DIR=${NOA_BUILD_DIR:-build} bash deploy/build.sh -DNOA_WERROR=ON
cd "${NOA_BUILD_DIR:-build}"
ctest --output-on-failure -j2 --timeout 900 "$@"
# Sanitizers (issue 9): ASan+UBSan over the whole suite, TSan over the `concurrency` tests, each
# step bounded (tests/run-sanitizers.sh). On by default in CI (CI=true), off otherwise: about
# 30 min on 2 idle cores (ASan build ~17, suite ~4; TSan build ~6, tests ~1) on top of the ~13
# above (8-9 min of it the build; -O2 -g1, test files -O1: see CMakeLists.txt).
# NOA_SANITIZERS=1 or 0 decides either way.
if [[ ${NOA_SANITIZERS:-$([[ ${CI:-} == true ]] && echo 1 || echo 0)} != 0 ]]; then
  cd - >/dev/null
  bash tests/run-sanitizers.sh all "$@"
fi
# Fuzzing (issue 9): each libFuzzer target for NOA_FUZZ_SECONDS (default 30) over a scratch copy
# of its seed corpus, clang build in build-fuzz included (tests/fuzz/README.md). Bounded: about
# 4 min of build on 2 idle cores plus 4 x 30 s. NOA_FUZZ_SECONDS=0 skips it.
if [[ ${NOA_FUZZ_SECONDS:-30} != 0 ]]; then
  cd "$root"
  NOA_FUZZ_SECONDS=${NOA_FUZZ_SECONDS:-30} bash tests/fuzz/run-fuzzers.sh
fi
