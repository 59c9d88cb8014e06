#!/usr/bin/env bash
# README command 2: installs what is needed, builds with warnings as errors, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
NOA_BUILD_DIR=${NOA_BUILD_DIR:-build} bash deploy/build.sh -DNOA_WERROR=ON
cd "${NOA_BUILD_DIR:-build}"
ctest --output-on-failure -j2 --timeout 900 "$@"
