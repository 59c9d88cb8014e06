#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) into build-fuzz and runs each for a bounded
# time over a scratch copy of its seed corpus (the repo's corpus stays as committed). Exits
# non-zero on any crash, leak, timeout or out-of-memory, naming the reproducer.
#
#   tests/fuzz/run-fuzzers.sh                 # every target, NOA_FUZZ_SECONDS (30) each
#   tests/fuzz/run-fuzzers.sh prom_text       # some targets
#   NOA_FUZZ_SECONDS=600 tests/fuzz/run-fuzzers.sh
#   NOA_FUZZ_BUILD_ONLY=1 tests/fuzz/run-fuzzers.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${NOA_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${NOA_FUZZ_SECONDS:-30}
cxx=${NOA_FUZZ_CXX:-clang++-14}
all=(protocol_decode rest_bodies prom_text policy_yaml)
targets=("$@")
((${#targets[@]})) || targets=("${all[@]}")

if ! command -v "$cxx" >/dev/null; then
  echo "run-fuzzers.sh: $cxx not found (deploy/install-deps.sh installs clang-14)" >&2
  exit 1
fi
if [[ ! -f $build/build.ninja ]]; then
  # -O1 and asserts on (no NDEBUG): what libFuzzer recommends, and an assert is a finding.
  CXX=$cxx cmake -S "$root" -B "$build" -G Ninja -DNOA_FUZZ=ON -DNOA_BUILD_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" >/dev/null
fi
ninja -C "$build" -j2 "${targets[@]/#/fuzz_}"
[[ -n ${NOA_FUZZ_BUILD_ONLY:-} ]] && exit 0

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
scratch=$(mktemp -d /tmp/noa-fuzz.XXXXXX)
trap 'rm -rf "$scratch/corpus"' EXIT
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$scratch/corpus/$t" "$scratch/artifacts/$t"
  cp "$here/corpus/$t"/* "$scratch/corpus/$t/"
  echo "== fuzz_$t: ${seconds}s"
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a parser must not need 2 GB.
  if "$build/tests/fuzz/fuzz_$t" "$scratch/corpus/$t" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$scratch/artifacts/$t/" >"$scratch/$t.log" 2>&1; then
    # "#runs DONE cov: edges ft: features corp: inputs/size ... exec/s: N"
    grep -E '^#[0-9]+[[:space:]]+DONE' "$scratch/$t.log" | tail -1
  else
    tail -60 "$scratch/$t.log"
    echo "fuzz_$t FAILED; reproducer: $(find "$scratch/artifacts/$t" -type f | head -1)" >&2
    echo "  rerun: $build/tests/fuzz/fuzz_$t <reproducer>; full log: $scratch/$t.log" >&2
    failed+=("$t")
  fi
done
if ((${#failed[@]})); then
  echo "run-fuzzers.sh: findings in ${failed[*]} (artifacts under $scratch/artifacts; ${SECONDS}s)" >&2
  exit 1
fi
rm -rf "$scratch"
echo "run-fuzzers.sh: ${targets[*]}: no findings in ${seconds}s each (${SECONDS}s with the build)"
