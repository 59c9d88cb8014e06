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
# step bounded. Opt-in (NOA_SANITIZERS=1) until they have run in full once: estimated 50-60 min on
# 2 cores on top of the ~25 min above, too close to CI's 90 min (tests/run-sanitizers.sh).
if [[ ${NOA_SANITIZERS:-0} != 0 ]]; then
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
