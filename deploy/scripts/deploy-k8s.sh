#!/usr/bin/env bash
# Kubernetes deployment of the noa stack (deploy/k8s: kustomize base + dev/staging/prod overlays).
#
#   deploy-k8s.sh [--env dev|staging|prod] setup            make the overlay's Secrets (keys, tokens, passwords)
#   deploy-k8s.sh [--env ENV] render                        print the rendered manifests (kubectl kustomize)
#   deploy-k8s.sh [--env ENV] deploy                        kubectl apply -k overlays/ENV
#   deploy-k8s.sh [--env ENV] verify                        wait for every rollout, check the controller and every agent
#   deploy-k8s.sh [--env ENV] status                        workloads, pods, services, volumes
#   deploy-k8s.sh [--env ENV] scale N [SERVICE]             set SERVICE's replicas (default mcp)
#   deploy-k8s.sh [--env ENV] rollback SERVICE [REVISION]   kubectl rollout undo (to REVISION)
#   deploy-k8s.sh [--env ENV] cleanup                       delete what deploy made (volumes are kept)
#
# ENV defaults to $NOA_K8S_ENV or dev. Every command it runs is printed first (NOA_DRY_RUN=1 prints
# only). setup needs the noa binaries (NOA_CONTROLLER_BIN, NOA_AGENT_BIN, default: the build tree,
# then PATH); it writes overlays/ENV/secrets/ (git-ignored) and never overwrites them.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
K8S_DIR=${NOA_K8S_DIR:-$NOA_ROOT/deploy/k8s}
ENV_NAME=${NOA_K8S_ENV:-dev}
if [[ ${1:-} == --env || ${1:-} == -e ]]; then ENV_NAME=${2:?--env needs dev, staging or prod}; shift 2; fi
case $ENV_NAME in
  dev) NS=noa-dev ;; staging) NS=noa-staging ;; prod) NS=noa ;;
  *) die "unknown environment '$ENV_NAME' (dev, staging or prod)" ;;
esac
OVERLAY=$K8S_DIR/overlays/$ENV_NAME
KUBECTL_HINT="Install kubectl (it includes kustomize), e.g. Debian's package kubernetes-client, or set PATH."

find_bin() {  # find_bin NAME SUBDIR VAR
  local var=$3
  if [[ -n ${!var:-} ]]; then echo "${!var}"; return; fi
  local b=${NOA_BUILD_DIR:-$NOA_ROOT/build}/$2/$1
  if [[ -x $b ]]; then echo "$b"; return; fi
  command -v "$1" || die "$1 not found: build it (deploy/build.sh), put it on PATH or set $var"
}

b64() { base64 -w0 <"$1"; }
secret_doc() {  # secret_doc NAME FILE-KEY=PATH...
  local name=$1; shift
  printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\ntype: Opaque\ndata:\n' "$name"
  for kv in "$@"; do printf '  %s: %s\n' "${kv%%=*}" "$(b64 "${kv#*=}")"; done
}
password() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32; }

setup() {
  local NOA_DRY_RUN=0   # only writes local files: runs for real even in a dry run
  local out=$OVERLAY/secrets
  if [[ -f $out/noa-secrets.yaml ]]; then
    say "$out/noa-secrets.yaml exists; keeping it (delete the folder to make new keys)"; return
  fi
  local ctl agent
  ctl=$(find_bin noa-controller controller NOA_CONTROLLER_BIN)
  agent=$(find_bin noa-agent agent NOA_AGENT_BIN)
  local work; work=$(mktemp -d); trap 'rm -rf "$work"' RETURN
  mkdir -p "$out"; chmod 700 "$out"
  run "$ctl" keygen --key-dir "$work/controller" >/dev/null
  (umask 077; run "$ctl" token new --name admin --role admin --tokens-file "$work/api-tokens" >"$out/admin.token")
  : >"$work/allowlist"
  local agent_secrets=()
  while read -r service count; do
    [[ -z $service || $service == \#* ]] && continue
    local files=()
    for ((i = 0; i < count; i++)); do
      local id=$service-$i
      run "$agent" show-key --state-dir "$work/agents/$id" >/dev/null
      echo "$id $(cat "$work/agents/$id/agent.pub")" >>"$work/allowlist"
      files+=("$id.key=$work/agents/$id/agent.key" "$id.pub=$work/agents/$id/agent.pub")
    done
    agent_secrets+=("$(secret_doc "noa-agent-keys-$service" "${files[@]}")")
  done <"$OVERLAY/agent-ids.txt"
  password >"$work/pg"; password >"$work/pg-repl"; password >"$work/redis"
  {
    echo "# Made by deploy-k8s.sh setup $ENV_NAME on $(date -u +%FT%TZ). Secret: do not commit."
    secret_doc noa-controller-keys "controller.key=$work/controller/controller.key" "controller.pub=$work/controller/controller.pub"
    secret_doc noa-controller-public-key "controller.pub=$work/controller/controller.pub"
    secret_doc noa-api-tokens "api-tokens=$work/api-tokens"
    secret_doc noa-agent-allowlist "allowlist=$work/allowlist"
    secret_doc postgres-credentials "postgres-password=$work/pg" "replication-password=$work/pg-repl"
    secret_doc redis-credentials "password=$work/redis"
    printf '%s\n' "${agent_secrets[@]}"
  } >"$out/noa-secrets.yaml"
  chmod 600 "$out/noa-secrets.yaml"
  say "wrote $out/noa-secrets.yaml ($(grep -c '^kind: Secret' "$out/noa-secrets.yaml") Secrets) and the admin token $out/admin.token"
}

need_overlay() {
  [[ -f $OVERLAY/secrets/noa-secrets.yaml ]] || die "no Secrets for $ENV_NAME yet: run '$SCRIPT --env $ENV_NAME setup' first"
}
workloads() { run kubectl -n "$NS" get statefulsets -l app.kubernetes.io/part-of=noa -o name; }

case ${1:-} in
  setup) setup ;;
  render) need kubectl "$KUBECTL_HINT"; need_overlay; run kubectl kustomize "$OVERLAY" ;;
  deploy) need kubectl "$KUBECTL_HINT"; need_overlay; run kubectl apply -k "$OVERLAY" ;;
  verify)
    need kubectl "$KUBECTL_HINT"
    for w in $(workloads); do run kubectl -n "$NS" rollout status "$w" --timeout="${NOA_VERIFY_TIMEOUT:-300s}"; done
    run kubectl -n "$NS" exec noa-controller-0 -c noa-controller -- noa-healthcheck 7700 /v1/health \
      || die "the controller's /v1/health does not answer 200"
    bad=0
    for pod in $(run kubectl -n "$NS" get pods -l noa.dev/agent=true -o jsonpath='{.items[*].metadata.name}'); do
      # /health/ready is 200 once the agent is registered with the controller.
      run kubectl -n "$NS" exec "$pod" -c noa-agent -- noa-healthcheck 7711 /health/ready || { say "agent $pod is not registered"; bad=1; }
    done
    ((bad == 0)) || die "some agents are not registered (noactl keys list; kubectl logs POD -c noa-agent)"
    say "$ENV_NAME: every workload rolled out, the controller is healthy, every agent is registered" ;;
  status)
    need kubectl "$KUBECTL_HINT"
    run kubectl -n "$NS" get statefulsets,pods,services,pvc,networkpolicies -o wide ;;
  scale)
    need kubectl "$KUBECTL_HINT"
    n=${2:?usage: $SCRIPT scale N [SERVICE]}; svc=${3:-mcp}
    [[ $n =~ ^[0-9]+$ ]] || die "N must be a number, not '$n'"
    max=$(awk -v s="$svc" '$1 == s {print $2}' "$OVERLAY/agent-ids.txt")
    [[ -n $max ]] || die "unknown service '$svc' (see $OVERLAY/agent-ids.txt)"
    ((n <= max)) || die "$svc has agent keys for $max replicas in $ENV_NAME (agent-ids.txt); raise it and run setup again"
    grep -q "^  $svc:" "$OVERLAY/policy.yaml" && grep -A2 "^  $svc:" "$OVERLAY/policy.yaml" | grep -q autoscale &&
      say "note: the noa autoscaler manages $svc in $ENV_NAME and may change the count again"
    run kubectl -n "$NS" scale "statefulset/$svc" --replicas="$n" ;;
  rollback)
    need kubectl "$KUBECTL_HINT"
    svc=${2:?usage: $SCRIPT rollback SERVICE [REVISION]}
    run kubectl -n "$NS" rollout history "statefulset/$svc"
    if [[ -n ${3:-} ]]; then run kubectl -n "$NS" rollout undo "statefulset/$svc" --to-revision="$3"
    else run kubectl -n "$NS" rollout undo "statefulset/$svc"; fi ;;
  cleanup)
    need kubectl "$KUBECTL_HINT"; need_overlay
    run kubectl delete -k "$OVERLAY" --ignore-not-found
    say "PersistentVolumeClaims are kept; to delete the data too: kubectl -n $NS delete pvc -l app.kubernetes.io/part-of=noa" ;;
  *) usage; exit 2 ;;
esac
