#!/usr/bin/env bash
# deploy/compose: `docker-compose config` (Debian's docker-compose, v1; no engine needed) renders
# the dev and staging stacks with the env file their setup writes; compose_check.py then checks
# the stack's shape (an agent in every service's network and PID namespace, hardening, health
# checks, staging's limits and TLS front, Prometheus targets = agents) and container_env_check.py
# runs the agents' and the controller's environment through the binaries' --check-config.
#   check_compose.sh NOA_CONTROLLER_BIN NOA_AGENT_BIN
source "$(dirname "$0")/lib.sh"
CTL=${1:?noa-controller binary}; AGENT=${2:?noa-agent binary}
require_bin "$CTL"; require_bin "$AGENT"
require_cmd docker-compose "apt-get install docker-compose"
require_py_module yaml "apt-get install python3-yaml"
HERE=$(cd "$(dirname "$0")" && pwd)
C=$DEPLOY/compose
# The variables deploy-*.sh setup writes into secrets/ENV.env (fixed values here).
cat >"$WORK/test.env" <<'ENV'
POSTGRES_PASSWORD=pg-test
POSTGRES_REPLICATION_PASSWORD=repl-test
REDIS_PASSWORD=redis-test
GRAFANA_PASSWORD=grafana-test
NOA_LOG_LEVEL=debug
ENV
for env in dev staging; do
  docker-compose --env-file "$WORK/test.env" --project-directory "$C" -f "$C/docker-compose.yml" \
    -f "$C/docker-compose.$env.yml" config >"$WORK/$env.yaml" 2>"$WORK/$env.err" ||
    { cat "$WORK/$env.err" >&2; fail "docker-compose config ($env)"; }
  ! grep -i warn "$WORK/$env.err" || fail "docker-compose config ($env) warned"
  prom=prometheus.yml; [[ $env == staging ]] && prom=prometheus-staging.yml
  # the agent ids the environment's setup enrolls
  if [[ $env == dev ]]; then ids=$(grep -o 'NOA_AGENT_IDS=[^"]*' "$DEPLOY/scripts/deploy-dev.sh" | head -1)
  else ids=$(grep -o '^STAGING_AGENTS="[^"]*"' "$DEPLOY/scripts/deploy-staging.sh" | cut -d'"' -f2); fi
  ids=${ids#NOA_AGENT_IDS=}
  "$PY" "$HERE/compose_check.py" --env "$env" --prometheus "$DEPLOY/prometheus/$prom" \
    --agent-ids "$ids" "$WORK/$env.yaml" || fail "compose_check.py ($env)"
  "$PY" "$HERE/container_env_check.py" --controller "$CTL" --agent "$AGENT" --work "$WORK/env-$env" \
    --policy "$C/policy.yaml" compose "$WORK/$env.yaml" || fail "container env ($env)"
  ok "$env: docker-compose config and checks"
done
# A missing mandatory variable must stop the stack from starting (no empty passwords).
docker-compose --project-directory "$C" -f "$C/docker-compose.yml" -f "$C/docker-compose.dev.yml" config \
  >/dev/null 2>"$WORK/novars.err" && fail "docker-compose config accepted the stack without its passwords"
grep -q "run deploy-dev.sh setup" "$WORK/novars.err" || fail "no clear message without the env file: $(cat "$WORK/novars.err")"
ok "the stacks refuse to render without the passwords setup makes"

# The stack's setup (noa-setup.sh, as the noa-setup-* services run it, on local folders instead of
# volumes), then a real controller with the files it made and a real agent with its key: the agent
# must be accepted through the allowlist and register. Needs root (it chowns as in the containers).
if [[ $(id -u) != 0 ]]; then
  echo "$DEPLOY_TEST: note: not root, skipping the setup run (it chowns to the containers' users)"
  exit 0
fi
require_cmd curl "apt-get install curl"
mkdir -p "$WORK/bin" "$WORK/s/secrets" "$WORK/s/public" "$WORK/s/host" "$WORK/s/state" "$WORK/s/backups"
ln -s "$CTL" "$WORK/bin/noa-controller"; ln -s "$AGENT" "$WORK/bin/noa-agent"
ids=$(grep -o 'NOA_AGENT_IDS=[^"]*' "$DEPLOY/scripts/deploy-dev.sh" | head -1); ids=${ids#NOA_AGENT_IDS=}
for step in "controller" "agents $ids" "controller" "agents $ids"; do   # twice: idempotent
  PATH=$WORK/bin:$PATH NOA_SETUP_SECRETS=$WORK/s/secrets NOA_SETUP_PUBLIC=$WORK/s/public \
    NOA_SETUP_HOST_SECRETS=$WORK/s/host NOA_SETUP_AGENT_STATE=$WORK/s/state NOA_SETUP_BACKUPS=$WORK/s/backups \
    bash "$C/noa-setup.sh" $step >>"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; fail "noa-setup.sh $step"; }
done
[[ $(grep -c . "$WORK/s/secrets/allowlist") == $(wc -w <<<"$ids") ]] || fail "allowlist: $(cat "$WORK/s/secrets/allowlist")"
[[ $(stat -c %u "$WORK/s/state/postgres-1") == 999 && $(stat -c %u "$WORK/s/state/mcp-1") == 10001 ]] ||
  fail "agent state dirs are not owned by the users their agents run as"
[[ -s $WORK/s/host/admin.token ]] || fail "no admin token"
read -r API ZMQ AH < <("$PY" -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
"$CTL" --data-dir "$WORK/ctl" --listen "tcp://127.0.0.1:$ZMQ" --api-listen "127.0.0.1:$API" \
  --key-dir "$WORK/s/secrets/keys" --allowlist-file "$WORK/s/secrets/allowlist" \
  --api-tokens-file "$WORK/s/secrets/api-tokens" --policy-file "$C/policy.yaml" >"$WORK/ctl.log" 2>&1 &
PIDS+=($!)
"$AGENT" --agent-id mcp-1 --service mcp --kind tcp --service-port "$API" --controller "tcp://127.0.0.1:$ZMQ" \
  --controller-public-key-file "$WORK/s/public/controller.pub" --state-dir "$WORK/s/state/mcp-1" \
  --http-listen "127.0.0.1:$AH" >"$WORK/agent.log" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 150; i++)); do curl -fsS "127.0.0.1:$AH/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "127.0.0.1:$AH/health/ready" >/dev/null ||
  { tail -5 "$WORK/ctl.log" "$WORK/agent.log" >&2; fail "the agent enrolled by noa-setup.sh did not register"; }
curl -fsS -H "Authorization: Bearer $(cat "$WORK/s/host/admin.token")" "127.0.0.1:$API/v1/agents" | grep -q '"mcp-1"' ||
  fail "the admin token from noa-setup.sh does not list the agent"
ok "noa-setup.sh: the controller accepts its keys, allowlist and token; an enrolled agent registers"
