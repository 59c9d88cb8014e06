#!/usr/bin/env bash
# deploy/k8s: for dev, staging and prod, make the overlay's Secrets with deploy-k8s.sh setup (real
# keys from the built binaries, in a copy of deploy/k8s), render with `kubectl kustomize`, then
#  - k8s_check.py: unknown fields (python3-kubernetes models), Pod Security restricted, probes,
#    references, RBAC exactly, NetworkPolicies, replicas vs enrolled agents, seed resources;
#  - k8s_schema_validate.cjs: every object against the Kubernetes OpenAPI schemas (kubernetes-models);
#  - the controller's policy file with `noa-controller --check-config --policy-file`;
#  - the env of every agent and controller container with the binaries' --check-config.
# Both validators are first shown a broken manifest and must refuse it.
#   check_k8s.sh NOA_CONTROLLER_BIN NOA_AGENT_BIN
source "$(dirname "$0")/lib.sh"
CTL=${1:?noa-controller binary}; AGENT=${2:?noa-agent binary}
require_bin "$CTL"; require_bin "$AGENT"
require_cmd kubectl "the kubectl package (Kubernetes' apt repository) or Debian's kubernetes-client; kubectl kustomize renders the overlays"
require_py_module yaml "apt-get install python3-yaml"
require_py_module kubernetes "apt-get install python3-kubernetes"
require_k8s_models
export NODE_PATH=$NOA_DEPLOY_TOOLS/node_modules
HERE=$(cd "$(dirname "$0")" && pwd)

cp -r "$DEPLOY/k8s" "$WORK/k8s"
rm -rf "$WORK"/k8s/overlays/*/secrets

# The validators must catch a broken manifest: a misspelt field, a bad quantity, a privileged
# container.
cat >"$WORK/broken.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: broken, namespace: x}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers:
        - name: c
          image: i
          readinesProbe: {httpGet: {path: /health, port: 80}}
          resources: {limits: {cpu: "1 core", memory: 1Gi}, requests: {cpu: 1, memory: 1Gi}}
          securityContext: {privileged: true}
YAML
mkdir -p "$WORK/broken-overlay"; : >"$WORK/broken-overlay/agent-ids.txt"; : >"$WORK/broken-overlay/policy.yaml"
out=$("$PY" "$HERE/k8s_check.py" --overlay "$WORK/broken-overlay" "$WORK/broken.yaml" --json-out "$WORK/broken.json" || true)
grep -q "readinesProbe: unknown field" <<<"$out" || fail "k8s_check.py did not catch a misspelt field: $out"
grep -q "privileged" <<<"$out" || fail "k8s_check.py did not catch a privileged container: $out"
out=$(node "$HERE/k8s_schema_validate.cjs" <"$WORK/broken.json" || true)
grep -q 'cpu must match format "quantity"' <<<"$out" || fail "the schema validator did not catch a bad quantity: $out"
ok "both validators refuse a broken manifest"

"$PY" - "$DEPLOY/k8s/base" <<'PY' || fail "a base file is not listed in base/kustomization.yaml"
import os, sys, yaml
base = sys.argv[1]
k = yaml.safe_load(open(os.path.join(base, "kustomization.yaml")))
listed = set(k["resources"])
for g in k.get("configMapGenerator", []):
    listed |= {f.split("=")[-1] for f in g.get("files", [])}
on_disk = {os.path.relpath(os.path.join(d, f), base) for d, _, fs in os.walk(base) for f in fs} - {"kustomization.yaml"}
missing = sorted(on_disk - listed)
if missing:
    print("not in kustomization.yaml:", missing); sys.exit(1)
PY

for env in dev staging prod; do
  NOA_K8S_DIR=$WORK/k8s NOA_CONTROLLER_BIN=$CTL NOA_AGENT_BIN=$AGENT \
    bash "$DEPLOY/scripts/deploy-k8s.sh" --env "$env" setup 2>"$WORK/setup-$env.log" ||
    { cat "$WORK/setup-$env.log" >&2; fail "deploy-k8s.sh --env $env setup"; }
  kubectl kustomize "$WORK/k8s/overlays/$env" >"$WORK/$env.yaml" || fail "kubectl kustomize overlays/$env"
  seed=(); [[ $env != dev ]] && seed=(--seed-resources)   # dev: reduced llama.cpp limits (seed)
  "$PY" "$HERE/k8s_check.py" --overlay "$WORK/k8s/overlays/$env" "${seed[@]}" \
    --json-out "$WORK/$env.json" "$WORK/$env.yaml" || fail "k8s_check.py overlays/$env"
  node "$HERE/k8s_schema_validate.cjs" <"$WORK/$env.json" || fail "schema validation of overlays/$env"
  "$PY" "$HERE/container_env_check.py" --controller "$CTL" --agent "$AGENT" --work "$WORK/env-$env" \
    --policy "$DEPLOY/k8s/overlays/$env/policy.yaml" k8s "$WORK/$env.json" || fail "container env of overlays/$env"
  ok "overlays/$env: $(grep -c '^kind:' "$WORK/$env.yaml") objects rendered and valid"
done

# The Secrets deploy-k8s.sh setup made, used as the pods use them: the controller with its key pair,
# token hashes and allowlist; the agent of pod mcp-0 with the key its init container installs. The
# agent must be accepted and register, and the admin token must work.
require_cmd curl "apt-get install curl"
"$PY" - "$WORK/k8s/overlays/prod/secrets/noa-secrets.yaml" "$WORK/pods" <<'PY' || fail "cannot unpack the Secrets"
import base64, os, sys, yaml
out = sys.argv[2]
for s in yaml.safe_load_all(open(sys.argv[1])):
    if not s:
        continue
    d = os.path.join(out, s["metadata"]["name"]); os.makedirs(d, exist_ok=True)
    for k, v in s["data"].items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(base64.b64decode(v))
PY
P=$WORK/pods
install -d -m 700 "$P/run-keys" "$P/mcp-0-state"
install -m 600 "$P/noa-controller-keys/controller.key" "$P/run-keys/controller.key"       # init container install-keys
install -m 644 "$P/noa-controller-keys/controller.pub" "$P/run-keys/controller.pub"
install -m 600 "$P/noa-agent-keys-mcp/mcp-0.key" "$P/mcp-0-state/agent.key"             # init container noa-agent-key
install -m 644 "$P/noa-agent-keys-mcp/mcp-0.pub" "$P/mcp-0-state/agent.pub"
read -r API ZMQ AH < <("$PY" -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
"$CTL" --data-dir "$WORK/ctl" --listen "tcp://127.0.0.1:$ZMQ" --api-listen "127.0.0.1:$API" \
  --key-dir "$P/run-keys" --allowlist-file "$P/noa-agent-allowlist/allowlist" \
  --api-tokens-file "$P/noa-api-tokens/api-tokens" --policy-file "$DEPLOY/k8s/overlays/prod/policy.yaml" >"$WORK/ctl.log" 2>&1 &
PIDS+=($!)
"$AGENT" --agent-id mcp-0 --service mcp --kind tcp --service-port "$API" --controller "tcp://127.0.0.1:$ZMQ" \
  --controller-public-key-file "$P/noa-controller-public-key/controller.pub" --state-dir "$P/mcp-0-state" \
  --http-listen "127.0.0.1:$AH" >"$WORK/agent.log" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 150; i++)); do curl -fsS "127.0.0.1:$AH/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "127.0.0.1:$AH/health/ready" >/dev/null ||
  { tail -5 "$WORK/ctl.log" "$WORK/agent.log" >&2; fail "agent mcp-0 with its Secret key did not register"; }
curl -fsS -H "Authorization: Bearer $(cat "$WORK/k8s/overlays/prod/secrets/admin.token")" "127.0.0.1:$API/v1/agents" |
  grep -q '"mcp-0"' || fail "the admin token from setup does not list the agent"
[[ $(grep -c . "$P/noa-agent-allowlist/allowlist") == $(awk '!/^#/ && NF {n += $2} END {print n}' "$WORK/k8s/overlays/prod/agent-ids.txt") ]] ||
  fail "the allowlist does not hold one key per agent id of agent-ids.txt"
ok "the Secrets work: the controller loads its keys, tokens and allowlist, agent mcp-0 registers"
