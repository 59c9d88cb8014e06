#!/usr/bin/env bash
# Installs every Debian 12 package noa needs to build, test and run its local demo.
# Idempotent; run as root. Used by the README's two commands and by .ci/run.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  # sanitizer runtimes for tests/run-sanitizers.sh (gcc 12's ASan, UBSan, TSan)
  libasan8 libubsan1 libtsan2
  # libFuzzer targets (tests/fuzz/run-fuzzers.sh): clang 14, its fuzzer runtime, llvm-symbolizer
  clang-14 libclang-rt-14-dev llvm-14
  # fixed dependencies
  libzmq3-dev cppzmq-dev libmsgpack-cxx-dev librocksdb-dev prometheus-cpp-dev
  libboost-program-options-dev libgtest-dev libgmock-dev
  # libraries for what the fixed ones do not cover (see README "Dependencies")
  libcpp-httplib-dev nlohmann-json3-dev libspdlog-dev libyaml-cpp-dev libssl-dev
  libpq-dev libhiredis-dev libarchive-dev libjwt-dev
  # static archives linked into the binaries (common/static_deps.cmake): libzmq's own
  # dependencies, and the GSSAPI header its stubs are checked against
  libsodium-dev libpgm-dev libnorm-dev libbsd-dev libmd-dev libkrb5-dev
  # real services the demo and the tests run
  postgresql redis-server prometheus
  # tools the tests use
  python3 python3-msgpack python3-jsonschema python3-yaml curl procps iproute2 util-linux openssl
  # fault trials (tests/faults): an agent's wall clock moved with LD_PRELOAD; the store's
  # ext4 on a loop device, frozen (mkfs.ext4; losetup and fsfreeze are util-linux)
  faketime e2fsprogs
  # offline validation of deploy/ (tests/deploy): compose files, Kubernetes objects, scripts
  docker-compose python3-kubernetes shellcheck
)

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps.sh: run as root (apt-get install)" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian packages may start system copies of these services; noa runs its own.
for svc in redis-server postgresql prometheus; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done
# kubectl (for `kubectl kustomize` in tests/deploy) is not in Debian 12 (its kubernetes-client
# 1.20 cannot render our overlays); these machines carry a `kubectl` package from their own
# repository. Try it, and let the deploy_k8s test say so if it is still missing.
if ! command -v kubectl >/dev/null 2>&1; then
  apt-get install -y -qq kubectl >/dev/null 2>&1 ||
    echo "install-deps.sh: no kubectl package here; tests/deploy's deploy_k8s will fail" >&2
fi
# The Kubernetes OpenAPI schema validator for tests/deploy (pinned in its package-lock.json;
# kubernetes-models 4.x, which Node.js 20 runs). kubectl itself comes with the machine.
tools=${NOA_DEPLOY_TOOLS:-/opt/noa-deploy-tools}
here=$(cd "$(dirname "$0")/.." && pwd)
if [[ ! -d "$tools/node_modules/kubernetes-models" ]] && command -v npm >/dev/null 2>&1; then
  mkdir -p "$tools"
  cp "$here/tests/deploy/tools/package.json" "$here/tests/deploy/tools/package-lock.json" "$tools/"
  npm ci --prefix "$tools" --no-audit --no-fund --loglevel=error >/dev/null
fi
echo "install-deps.sh: all packages present"
