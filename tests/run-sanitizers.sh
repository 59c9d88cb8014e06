#!/usr/bin/env bash
# Sanitizer runs (issue 9): the WHOLE ctest suite built with ASan+UBSan in build-asan, and the
# tests labelled `concurrency` built with TSan in build-tsan. Every step is bounded by `timeout`
# and prints its wall time. Any sanitizer report fails the run, including one from a child
# process (noa-controller, noa-agent, noactl from the same build dir are sanitized too): the
# runtimes write reports to files under <build>/sanitizer-reports, which are checked afterwards,
# because a child that dies of a finding does not always fail the test that started it.
#
#   tests/run-sanitizers.sh [asan|tsan|all] [extra ctest args...]     (default: all)
#
# Needs what tests/run-tests.sh installs (deploy/install-deps.sh). Knobs: NOA_ASAN_BUILD_DIR,
# NOA_TSAN_BUILD_DIR, NOA_SAN_BUILD_LIMIT / NOA_SAN_TEST_LIMIT (seconds per step).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
shift || true
asan_dir=${NOA_ASAN_BUILD_DIR:-build-asan}
tsan_dir=${NOA_TSAN_BUILD_DIR:-build-tsan}
build_limit=${NOA_SAN_BUILD_LIMIT:-2400}
test_limit=${NOA_SAN_TEST_LIMIT:-1500}

# -O1 -g1: cheaper to compile than -O2 -g, and line tables are all a stack trace needs.
cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" -DNOA_WERROR=ON)
if command -v ccache >/dev/null 2>&1; then
  cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

# step <name> <seconds> <command...>: runs bounded (the whole process group is killed at the
# limit), prints the wall time, returns the command's status.
step() {
  local name=$1 limit=$2 start rc=0
  shift 2
  start=$(date +%s)
  echo "run-sanitizers: $name (limit ${limit}s)"
  timeout --kill-after=30 "$limit" "$@" || rc=$?
  echo "run-sanitizers: $name took $(($(date +%s) - start))s, status $rc"
  return "$rc"
}

# A fresh, world-writable report directory: the PostgreSQL tests run some children as postgres.
fresh_reports() {
  rm -rf "$1/sanitizer-reports"
  mkdir -p "$1/sanitizer-reports"
  chmod 1777 "$1/sanitizer-reports"
}

# Prints every report and fails if there is one.
check_reports() {
  local dir=$1/sanitizer-reports found=0 f
  for f in "$dir"/*; do
    [[ -s $f ]] || continue
    found=1
    echo "run-sanitizers: report $f"
    cat "$f"
  done
  ((found == 0)) || { echo "run-sanitizers: sanitizer findings in $dir" >&2; return 1; }
}

# The executables of the tests labelled `concurrency`, read from the tests.cmake fragments
# (noa_add_test(NAME <target> ... LABELS unit-concurrency)), so the label is the one list. One
# label, not `unit concurrency`: CMake 3.25's gtest_discover_tests keeps only the first of a
# list, and ctest -L is a regex, so `-L unit` and `-L concurrency` both select `unit-concurrency`.
concurrency_targets() {
  python3 - <<'EOF'
import glob, re
for path in sorted(glob.glob("tests/**/tests.cmake", recursive=True)):
    text = re.sub(r"#[^\n]*", "", open(path).read())
    for name, args in re.findall(r"noa_add_test\(\s*NAME\s+(\S+)([^)]*)\)", text):
        labels = re.search(r"\bLABELS\b(.*)", args, re.S)
        if labels and "concurrency" in labels.group(1):
            print(name)
EOF
}

run_asan() {
  local dir=$asan_dir rc=0
  cmake -S . -B "$dir" "${cmake_args[@]}" -DNOA_SANITIZE=address,undefined >/dev/null || return 1
  step "asan build" "$build_limit" ninja -C "$dir" -j2 || return 1
  fresh_reports "$dir"
  local reports=$PWD/$dir/sanitizer-reports
  # detect_leaks: LeakSanitizer at every sanitized process's normal exit.
  # verify_asan_link_order=0: the clock-jump fault trial starts an agent with libfaketime in
  # LD_PRELOAD, ahead of the ASan runtime; the check refuses that although interception works.
  export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:print_stacktrace=1:verify_asan_link_order=0:log_path=$reports/asan"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
  step "asan+ubsan ctest (whole suite)" "$test_limit" \
    ctest --test-dir "$dir" --output-on-failure -j2 --timeout 900 "$@" || rc=$?
  unset ASAN_OPTIONS UBSAN_OPTIONS
  check_reports "$dir" || rc=1
  return "$rc"
}

run_tsan() {
  local dir=$tsan_dir rc=0 targets
  mapfile -t targets < <(concurrency_targets)
  ((${#targets[@]})) || { echo "run-sanitizers: no test labelled concurrency" >&2; return 1; }
  cmake -S . -B "$dir" "${cmake_args[@]}" -DNOA_SANITIZE=thread >/dev/null || return 1
  step "tsan build (${targets[*]})" "$build_limit" ninja -C "$dir" -j2 "${targets[@]}" || return 1
  fresh_reports "$dir"
  local reports=$PWD/$dir/sanitizer-reports
  # tsan.supp names only uninstrumented Debian libraries (libzmq, cpp-httplib), see there.
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$reports/tsan:suppressions=$PWD/tests/tsan.supp"
  step "tsan ctest -L concurrency" "$test_limit" \
    ctest --test-dir "$dir" --output-on-failure -j2 --timeout 900 -L concurrency "$@" || rc=$?
  unset TSAN_OPTIONS
  check_reports "$dir" || rc=1
  return "$rc"
}

status=0
case $what in
  asan) run_asan "$@" || status=1 ;;
  tsan) run_tsan "$@" || status=1 ;;
  all)
    run_asan "$@" || status=1
    run_tsan "$@" || status=1
    ;;
  *) echo "usage: $0 [asan|tsan|all] [ctest args...]" >&2; exit 2 ;;
esac
exit "$status"
