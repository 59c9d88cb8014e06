#!/usr/bin/env bash
# deploy/scripts: syntax and shellcheck (errors) of every deploy shell script; every command of deploy-dev.sh, deploy-staging.sh (setup, start, status,
# logs, stop, cleanup) and deploy-k8s.sh (setup, deploy, verify, status, scale N, rollback,
# cleanup) in dry-run mode prints the command it would run; `deploy-*.sh config` runs the real
# docker-compose on what setup wrote; bad arguments fail with a message; a missing docker-compose
# or kubectl fails with exit 127 naming the tool.
#   check_scripts.sh NOA_CONTROLLER_BIN NOA_AGENT_BIN
source "$(dirname "$0")/lib.sh"
CTL=${1:?noa-controller binary}; AGENT=${2:?noa-agent binary}
require_bin "$CTL"; require_bin "$AGENT"
require_cmd docker-compose "apt-get install docker-compose"
require_cmd kubectl "the kubectl package or Debian's kubernetes-client"
require_cmd shellcheck "apt-get install shellcheck"
S=$DEPLOY/scripts
for f in "$S"/*.sh; do bash -n "$f" || fail "bash -n $f"; done
shellcheck -S error "$S"/*.sh "$DEPLOY"/docker/collect-runtime-libs.sh "$DEPLOY"/docker/noa-healthcheck \
  "$DEPLOY"/compose/*.sh "$DEPLOY"/k8s/base/scripts/*.sh || fail "shellcheck -S error"

expect() {  # expect PATTERN OUTPUT-FILE: the output has a line matching PATTERN
  grep -qE -- "$1" "$2" || { cat "$2" >&2; fail "expected a line matching '$1'"; }
}

# Compose wrappers, on a copy of deploy/compose (setup writes secrets/ there).
cp -r "$DEPLOY/compose" "$WORK/compose"; rm -rf "$WORK/compose/secrets"
for env in dev staging; do
  sh=$S/deploy-$env.sh
  export NOA_COMPOSE_DIR=$WORK/compose
  NOA_DRY_RUN=1 bash "$sh" setup >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "$env setup (dry run)"; }
  [[ -f $WORK/compose/secrets/$env.env ]] || fail "$env setup wrote no secrets/$env.env"
  [[ $(stat -c %a "$WORK/compose/secrets/$env.env") == 600 ]] || fail "secrets/$env.env is not 0600"
  expect "^\+ docker-compose -p noa-$env --env-file .*/secrets/$env.env .* build" "$WORK/out"
  expect "^\+ docker-compose .* run --rm noa-setup-controller" "$WORK/out"
  expect "^\+ docker-compose .* run --rm noa-setup-agents" "$WORK/out"
  [[ $env == staging ]] && expect "^\+ openssl req -x509" "$WORK/out"
  for cmd in "start:up -d --remove-orphans" "status:ps" "logs:logs --tail=200" "stop:stop" "cleanup:down --volumes --remove-orphans"; do
    NOA_DRY_RUN=1 bash "$sh" "${cmd%%:*}" >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "$env ${cmd%%:*} (dry run)"; }
    expect "^\+ docker-compose -p noa-$env .*-f [^ ]*/docker-compose.yml -f [^ ]*/docker-compose.$env.yml ${cmd#*:}" "$WORK/out"
  done
  bash "$sh" config >"$WORK/config.yaml" 2>"$WORK/out" || { cat "$WORK/out" >&2; fail "deploy-$env.sh config (real docker-compose)"; }
  grep -q "^  agent-mcp:" "$WORK/config.yaml" || fail "deploy-$env.sh config printed no stack"
  bash "$sh" frobnicate >"$WORK/out" 2>&1 && fail "deploy-$env.sh accepted an unknown command"
  expect "deploy-$env.sh setup" "$WORK/out"
  ok "deploy-$env.sh: setup, start, status, logs, stop, cleanup, config"
  unset NOA_COMPOSE_DIR
done

# Kubernetes wrapper, on a copy of deploy/k8s.
cp -r "$DEPLOY/k8s" "$WORK/k8s"; rm -rf "$WORK"/k8s/overlays/*/secrets
export NOA_K8S_DIR=$WORK/k8s NOA_CONTROLLER_BIN=$CTL NOA_AGENT_BIN=$AGENT
K=$S/deploy-k8s.sh
NOA_DRY_RUN=1 bash "$K" --env staging deploy >"$WORK/out" 2>&1 && fail "deploy-k8s.sh deploy worked without setup"
expect "run 'deploy-k8s.sh --env staging setup' first" "$WORK/out"
bash "$K" --env staging setup >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "deploy-k8s.sh setup"; }
[[ $(stat -c %a "$WORK/k8s/overlays/staging/secrets/noa-secrets.yaml") == 600 ]] || fail "noa-secrets.yaml is not 0600"
bash "$K" --env staging setup >"$WORK/out" 2>&1; expect "exists; keeping it" "$WORK/out"
for cmd in "deploy:kubectl apply -k .*/overlays/staging" "status:kubectl -n noa-staging get statefulsets,pods" \
           "scale 3:kubectl -n noa-staging scale statefulset/mcp --replicas=3" \
           "scale 2 claude-flow:kubectl -n noa-staging scale statefulset/claude-flow --replicas=2" \
           "rollback mcp 2:kubectl -n noa-staging rollout undo statefulset/mcp --to-revision=2" \
           "rollback mcp:kubectl -n noa-staging rollout undo statefulset/mcp$" \
           "verify:kubectl -n noa-staging exec noa-controller-0 -c noa-controller -- noa-healthcheck 7700 /v1/health" \
           "cleanup:kubectl delete -k .*/overlays/staging --ignore-not-found"; do
  read -r -a args <<<"${cmd%%:*}"
  NOA_DRY_RUN=1 bash "$K" --env staging "${args[@]}" >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "deploy-k8s.sh ${cmd%%:*} (dry run)"; }
  expect "^\+ ${cmd#*:}" "$WORK/out"
done
bash "$K" --env staging render >"$WORK/render.yaml" 2>"$WORK/out" || { cat "$WORK/out" >&2; fail "deploy-k8s.sh render"; }
grep -q "^kind: StatefulSet" "$WORK/render.yaml" || fail "render printed no manifests"
NOA_DRY_RUN=1 bash "$K" --env staging scale 99 >"$WORK/out" 2>&1 && fail "scale beyond the enrolled agent ids was accepted"
expect "agent keys for 4 replicas" "$WORK/out"
NOA_DRY_RUN=1 bash "$K" --env nowhere status >"$WORK/out" 2>&1 && fail "an unknown environment was accepted"
expect "unknown environment 'nowhere'" "$WORK/out"
ok "deploy-k8s.sh: setup, render, deploy, verify, status, scale N, rollback, cleanup"

# A missing tool: a PATH with everything the scripts use except docker-compose and kubectl.
mkdir -p "$WORK/bin"
for t in bash env dirname basename sed awk grep cat mktemp head base64 tr date chmod mkdir rm stat printf cut; do
  p=$(command -v "$t") && ln -sf "$p" "$WORK/bin/$t"
done
mkdir -p "$WORK/compose/secrets"; : >"$WORK/compose/secrets/dev.env"
set +e
NOA_COMPOSE_DIR=$WORK/compose PATH=$WORK/bin bash "$S/deploy-dev.sh" start >"$WORK/out" 2>&1; rc=$?
set -e
[[ $rc == 127 ]] || { cat "$WORK/out" >&2; fail "deploy-dev.sh without docker-compose: exit $rc, want 127"; }
expect "'docker-compose' not found on PATH" "$WORK/out"
set +e
PATH=$WORK/bin bash "$K" --env staging status >"$WORK/out" 2>&1; rc=$?
set -e
[[ $rc == 127 ]] || { cat "$WORK/out" >&2; fail "deploy-k8s.sh without kubectl: exit $rc, want 127"; }
expect "'kubectl' not found on PATH" "$WORK/out"
ok "a missing docker-compose or kubectl fails with exit 127 and names the tool"
