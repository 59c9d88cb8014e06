#!/usr/bin/env bash
# deploy/docker, without a Docker engine (none runs here; `docker build` needs one):
#  - each Dockerfile is multi-stage, its runtime stage is debian:12-slim, it runs as a numeric
#    non-root USER, has a HEALTHCHECK on the binary's own health endpoint, an ENTRYPOINT that is
#    the binary, and declares its writable paths as VOLUMEs (read-only root);
#  - the build stage installs the Debian packages deploy/install-deps.sh lists for building;
#  - collect-runtime-libs.sh, run on the built binaries, yields a library set with which they
#    start (ld.so resolves every library from it or from glibc) and --help works;
#  - the images' ENV defaults pass the binaries' --check-config.
#   check_docker.sh NOA_CONTROLLER_BIN NOA_AGENT_BIN
source "$(dirname "$0")/lib.sh"
CTL=${1:?noa-controller binary}; AGENT=${2:?noa-agent binary}
require_bin "$CTL"; require_bin "$AGENT"
D=$DEPLOY/docker
for f in agent controller; do
  df=$D/$f.Dockerfile
  [[ -f $df && -f $df.dockerignore ]] || fail "$df or its .dockerignore missing"
  grep -q '^FROM debian:12 AS build$' "$df" || fail "$df: build stage must be FROM debian:12 AS build"
  grep -q '^ARG DEBIAN_TAG=12-slim$' "$df" && grep -q '^FROM debian:${DEBIAN_TAG} AS runtime$' "$df" ||
    fail "$df: runtime stage must be debian:12-slim"
  [[ $(grep -c '^FROM ' "$df") == 2 ]] || fail "$df: expected two stages"
  user=$(awk '$1 == "USER" {print $2}' "$df" | tail -1)
  [[ $user =~ ^[1-9][0-9]*:[1-9][0-9]*$ ]] || fail "$df: last USER must be a numeric non-root uid:gid, not '$user'"
  grep -q '^HEALTHCHECK .*' "$df" && grep -q 'CMD \["/usr/local/bin/noa-healthcheck", "77[01][01]", "/\(v1/\)\{0,1\}health"\]' "$df" ||
    fail "$df: HEALTHCHECK must call noa-healthcheck on the binary's health endpoint"
  grep -q "^ENTRYPOINT \[\"/usr/local/bin/noa-$f\"\]" "$df" || fail "$df: ENTRYPOINT must be /usr/local/bin/noa-$f"
  grep -q '^VOLUME ' "$df" || fail "$df: declares no VOLUME (read-only root needs its writable paths as volumes)"
  grep -q 'COPY --from=build /out/ /' "$df" || fail "$df: the runtime stage must copy only /out from the build stage"
  ! grep -q -E 'apt-get install.*(build-essential|cmake|-dev)' <(sed -n '/AS runtime/,$p' "$df") ||
    fail "$df: the runtime stage installs build tools"
  # every -dev package deploy/install-deps.sh needs for building is in the build stage
  for pkg in $(sed -n '/^PACKAGES=(/,/^)/p' "$DEPLOY/install-deps.sh" | grep -v '#' | tr ' ' '\n' | grep -E -- '-dev$|^cmake$|^ninja-build$|^pkg-config$'); do
    # tests, sanitizers and fuzzers are not built in the image
    [[ $pkg == libgtest-dev || $pkg == libgmock-dev || $pkg == libclang-rt-* ]] && continue
    grep -q -- "$pkg" "$df" || fail "$df: build stage lacks $pkg (deploy/install-deps.sh)"
  done
done
ok "Dockerfile structure"

# The runtime library set: copy what the binaries link, then start them with only that set + glibc.
bash "$D/collect-runtime-libs.sh" "$WORK/lib" "$CTL" "$AGENT" 2>/dev/null
for bin in "$CTL" "$AGENT"; do
  unresolved=$(LD_LIBRARY_PATH=$WORK/lib ldd "$bin" | grep 'not found' || true)
  [[ -z $unresolved ]] || fail "$bin: libraries not found: $unresolved"
  outside=$(LD_LIBRARY_PATH=$WORK/lib ldd "$bin" | awk '/=> \// {print $3}' | grep -v "^$WORK/lib/" |
    grep -v -E '/(libc|libm|libpthread|libdl|librt|libresolv|libgcc_s)\.so' || true)
  [[ -z $outside ]] || fail "$bin: would load libraries the runtime stage does not copy: $outside"
  LD_LIBRARY_PATH=$WORK/lib "$bin" --help >/dev/null || fail "$bin --help with the collected libraries"
done
ok "collect-runtime-libs.sh: $(ls "$WORK/lib" | wc -l) libraries, both binaries start with them"

# The images' ENV lines, as the container sees them (paths pointed at test files).
envs() { sed -n '/^ENV /,/[^\\]$/p' "$1" | sed 's/^ENV //; s/\\$//' | tr ' ' '\n' | grep '=' ; }
"$CTL" keygen --key-dir "$WORK/keys" >/dev/null 2>&1
"$CTL" token new --name t --role viewer --tokens-file "$WORK/tokens" >/dev/null 2>&1
(
  export $(envs "$D/controller.Dockerfile" | tr '\n' ' ')
  [[ $NOA_API_LISTEN == 0.0.0.0:7700 && $NOA_LISTEN == tcp://0.0.0.0:7701 ]] || exit 1
  NOA_DATA_DIR=$WORK/ctl NOA_API_ALLOW_PLAIN_HTTP=true "$CTL" --check-config --api-tokens-file "$WORK/tokens" \
    --key-dir "$WORK/keys" | grep -q 'config ok'
) || fail "controller image ENV does not pass --check-config"
(
  export $(envs "$D/agent.Dockerfile" | tr '\n' ' ')
  [[ $NOA_HTTP_LISTEN == 0.0.0.0:7711 ]] || exit 1
  NOA_CONTROLLER_PUBLIC_KEY_FILE=$WORK/keys/controller.pub NOA_BACKUP_DIR=$WORK/backups \
    "$AGENT" --check-config --agent-id a-1 --service s --kind tcp --service-port 1 --state-dir "$WORK/agent" | grep -q 'config ok'
) || fail "agent image ENV does not pass --check-config"
ok "the images' ENV defaults pass --check-config"
