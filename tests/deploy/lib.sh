# shellcheck shell=bash
# Shared by tests/deploy/check_*.sh. A missing tool fails the test under CI=true (CI must have
# it: deploy/install-deps.sh) and skips it (exit 77, ctest SKIP_RETURN_CODE) elsewhere.
set -euo pipefail
DEPLOY_TEST=$(basename "$0" .sh)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEPLOY=$ROOT/deploy
NOA_DEPLOY_TOOLS=${NOA_DEPLOY_TOOLS:-/opt/noa-deploy-tools}
PY=/usr/bin/python3   # Debian's interpreter: python3-yaml and python3-kubernetes live there
fail() { echo "$DEPLOY_TEST: FAIL: $*" >&2; exit 1; }
ok() { echo "$DEPLOY_TEST: ok: $*"; }
missing() {  # missing WHAT HOW-TO-INSTALL
  if [[ ${CI:-} == true ]]; then
    echo "$DEPLOY_TEST: FAIL: $1 is missing (CI=true, so this is an error, not a skip). Install: $2" >&2
    exit 1
  fi
  echo "$DEPLOY_TEST: SKIP: $1 is missing. Install: $2" >&2
  exit 77
}
require_cmd() { command -v "$1" >/dev/null 2>&1 || missing "$1" "$2"; }
require_py_module() {
  [[ -x $PY ]] || missing "$PY" "apt-get install python3"
  "$PY" -c "import $1" 2>/dev/null || missing "python module $1 for $PY" "$2"
}
require_k8s_models() {
  require_cmd node "apt-get install nodejs"
  [[ -f $NOA_DEPLOY_TOOLS/node_modules/kubernetes-models/package.json ]] ||
    missing "npm package kubernetes-models in $NOA_DEPLOY_TOOLS" \
      "mkdir -p $NOA_DEPLOY_TOOLS && cp tests/deploy/tools/package*.json $NOA_DEPLOY_TOOLS/ && npm ci --prefix $NOA_DEPLOY_TOOLS --no-audit --no-fund"
}
require_bin() {  # require_bin PATH: a noa binary from the build tree (passed by tests.cmake)
  [[ -x $1 ]] || fail "$1 is not an executable (build it first)"
}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/noa-$DEPLOY_TEST.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
