#!/usr/bin/env bash
# The local demo, without Docker: real redis-server (primary + replica) and a real PostgreSQL
# primary as local processes, an agent beside each, and the controller.
#
#   deploy/local/noa-demo.sh up      install packages, build, start everything, print how to reach it
#   deploy/local/noa-demo.sh status  noactl status
#   deploy/local/noa-demo.sh down    stop everything it started (by PID) and leave nothing running
#
# State lives in $NOA_DEMO_DIR (default /var/tmp/noa-demo). Ports: REST 7700, agents 7701,
# redis 7379/7380, postgres 7432 (override with NOA_DEMO_*_PORT).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${NOA_DEMO_DIR:-/var/tmp/noa-demo}
BUILD=${NOA_BUILD_DIR:-$ROOT/build}
API_PORT=${NOA_DEMO_API_PORT:-7700}
ZMQ_PORT=${NOA_DEMO_ZMQ_PORT:-7701}
REDIS_PORT=${NOA_DEMO_REDIS_PORT:-7379}
REDIS_REPLICA_PORT=${NOA_DEMO_REDIS_REPLICA_PORT:-7380}
PG_PORT=${NOA_DEMO_PG_PORT:-7432}
AGENT_HTTP_PORT=${NOA_DEMO_AGENT_HTTP_PORT:-7711}  # agents' own /health + /metrics: 7711, 7712, 7713
PG_BIN=/usr/lib/postgresql/15/bin
URL="http://127.0.0.1:$API_PORT"

say() { echo "noa-demo: $*"; }
die() { echo "noa-demo: $*" >&2; exit 1; }

# start NAME [--as USER] -- CMD...: runs CMD detached, output in logs/NAME.log, pid in pids/NAME.pid
start() {
  local name=$1; shift
  local user=""
  if [[ $1 == --as ]]; then user=$2; shift 2; fi
  [[ $1 == -- ]] && shift
  if [[ -f $DIR/pids/$name.pid ]] && kill -0 "$(cat "$DIR/pids/$name.pid")" 2>/dev/null; then
    say "$name already running (pid $(cat "$DIR/pids/$name.pid"))"; return
  fi
  if [[ -n $user ]]; then
    setsid runuser -u "$user" -- "$@" >>"$DIR/logs/$name.log" 2>&1 < /dev/null &
  else
    setsid "$@" >>"$DIR/logs/$name.log" 2>&1 < /dev/null &
  fi
  echo $! >"$DIR/pids/$name.pid"
}

# Security as in production, with local files: the controller's CURVE key pair, each agent's
# key pair enrolled through an allowlist, an admin bearer token for the REST API, and a noactl
# config file pointing at it (only written when absent or written by this script).
CREDS=$DIR/credentials
NOACTL_CONFIG=/etc/noa/noactl.yaml
secure_setup() {
  mkdir -p "$CREDS" "$DIR/agents" && chmod 700 "$CREDS"
  mkdir -p "$DIR/logs"
  "$BUILD/controller/noa-controller" keygen --key-dir "$CREDS/controller-keys" >/dev/null \
    2>"$DIR/logs/keygen.log" || die "noa-controller keygen failed: $(cat "$DIR/logs/keygen.log")"
  touch "$CREDS/allowlist"
  # Agents run as the service's own user (--run-as), so their state dirs belong to it; they read
  # the controller's public key from a world-readable copy.
  install -m 644 "$CREDS/controller-keys/controller.pub" "$DIR/agents/controller.pub"
  for id in redis-primary redis-replica postgres-primary; do
    local key user=redis
    [[ $id == postgres-* ]] && user=postgres
    key=$("$BUILD/agent/noa-agent" show-key --state-dir "$DIR/agents/$id" | awk '$1 == "public_key" {print $2}')
    chown -R "$user:" "$DIR/agents/$id"
    grep -qxF "$id $key" "$CREDS/allowlist" || echo "$id $key" >>"$CREDS/allowlist"
  done
  if [[ ! -s $CREDS/admin.token ]]; then
    rm -f "$CREDS/api-tokens"
    (umask 077; "$BUILD/controller/noa-controller" token new --name demo-admin --role admin \
      --tokens-file "$CREDS/api-tokens" >"$CREDS/admin.token" 2>"$DIR/logs/token.log") ||
      die "noa-controller token new failed: $(cat "$DIR/logs/token.log")"
  fi
  if [[ ! -f $NOACTL_CONFIG ]] || grep -q "written by noa-demo" "$NOACTL_CONFIG"; then
    mkdir -p "$(dirname "$NOACTL_CONFIG")"
    printf '# written by noa-demo (deploy/local/noa-demo.sh); removed by its "down"\ncontroller: %s\ntoken_file: %s\n' \
      "$URL" "$CREDS/admin.token" >"$NOACTL_CONFIG"
    chmod 600 "$NOACTL_CONFIG"
  else
    say "$NOACTL_CONFIG exists and is not ours: set NOA_TOKEN_FILE=$CREDS/admin.token for noactl"
  fi
}

# The controller's policy file: the seed's defaults (daily dump kept 30 days, weekly drill,
# RPO 15 minutes, RTO 1 hour), for the demo's 'app' database.
write_policy() {
  cat >"$DIR/policy.yaml" <<'YAML'
services:
  postgres:
    backups:
      - name: nightly
        kind: pg_dump
        schedule: "0 3 * * *"          # UTC
        retention: {max_age: 30d, min_count: 3}
        params: {dbname: app}
    drill:
      schedule: "0 4 * * 0"           # Sundays 04:00 UTC
      rto_target: 1h
      scratch_db: noa_drill
    rpo_target: 15m
YAML
}

wait_for() {  # wait_for SECONDS DESCRIPTION CMD...
  local secs=$1 what=$2; shift 2
  for ((i = 0; i < secs * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "$what did not come up within ${secs}s (logs in $DIR/logs)"
}

up() {
  [[ $(id -u) -eq 0 ]] || die "run as root (it installs packages and starts PostgreSQL as user postgres)"
  bash "$ROOT/deploy/install-deps.sh"
  NOA_BUILD_DIR=$BUILD bash "$ROOT/deploy/build.sh"
  for bin in noa-controller:controller noa-agent:agent noactl:controller; do
    ln -sf "$BUILD/${bin#*:}/${bin%%:*}" "/usr/local/bin/${bin%%:*}"
  done
  mkdir -p "$DIR/pids" "$DIR/logs" "$DIR/redis-primary" "$DIR/redis-replica" "$DIR/controller"

  start redis-primary -- redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DIR/redis-primary" \
    --save "" --appendonly yes
  start redis-replica -- redis-server --port "$REDIS_REPLICA_PORT" --bind 127.0.0.1 \
    --dir "$DIR/redis-replica" --save "" --appendonly yes --replicaof 127.0.0.1 "$REDIS_PORT"

  if [[ ! -f $DIR/pg/PG_VERSION ]]; then
    mkdir -p "$DIR/pg" "$DIR/pgsock"; chown postgres:postgres "$DIR/pg" "$DIR/pgsock"; chmod 700 "$DIR/pg"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$DIR/pg" -A trust -U postgres >>"$DIR/logs/initdb.log" 2>&1
  fi
  chown postgres:postgres "$DIR/logs"
  start postgres --as postgres -- "$PG_BIN/postgres" -D "$DIR/pg" -p "$PG_PORT" \
    -c listen_addresses=127.0.0.1 -c unix_socket_directories="$DIR/pgsock"
  chown root:root "$DIR/logs"
  # A small application database for the backup demo (once).
  wait_for 20 "postgres" runuser -u postgres -- "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT"
  if ! runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -Atqc "select 1 from pg_database where datname = 'app'" | grep -q 1; then
    runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -qc "create database app" >>"$DIR/logs/initdb.log"
    runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -d app -qc \
      "create table orders (id bigint primary key, note text); insert into orders select g, md5(g::text) from generate_series(1, 50000) g" \
      >>"$DIR/logs/initdb.log"
  fi
  mkdir -p "$DIR/backups" && chown postgres: "$DIR/backups" && chmod 700 "$DIR/backups"
  write_policy

  secure_setup
  start controller -- "$BUILD/controller/noa-controller" --controller-id demo --data-dir "$DIR/controller" \
    --listen "tcp://127.0.0.1:$ZMQ_PORT" --api-listen "127.0.0.1:$API_PORT" \
    --key-dir "$CREDS/controller-keys" --allowlist-file "$CREDS/allowlist" \
    --api-tokens-file "$CREDS/api-tokens" --policy-file "$DIR/policy.yaml"
  wait_for 15 "controller" curl -fsS "$URL/v1/health"

  local agent="$BUILD/agent/noa-agent"
  local ctl=(--controller "tcp://127.0.0.1:$ZMQ_PORT"
    --controller-public-key-file "$DIR/agents/controller.pub")
  # Each agent probes its service, reports the CPU and memory of the service's process tree
  # (from its pidfile) and serves its own /health* and /metrics.
  start agent-redis-primary -- "$agent" --agent-id redis-primary --service redis --kind redis \
    --state-dir "$DIR/agents/redis-primary" --run-as redis \
    --service-port "$REDIS_PORT" "${ctl[@]}" --service-pidfile "$DIR/pids/redis-primary.pid" \
    --http-listen "127.0.0.1:$AGENT_HTTP_PORT"
  start agent-redis-replica -- "$agent" --agent-id redis-replica --service redis --kind redis \
    --state-dir "$DIR/agents/redis-replica" --run-as redis \
    --service-port "$REDIS_REPLICA_PORT" "${ctl[@]}" \
    --service-pidfile "$DIR/pids/redis-replica.pid" --http-listen "127.0.0.1:$((AGENT_HTTP_PORT + 1))"
  start agent-postgres -- "$agent" --agent-id postgres-primary --service postgres --kind postgres \
    --state-dir "$DIR/agents/postgres-primary" --run-as postgres \
    --service-port "$PG_PORT" "${ctl[@]}" --service-pidfile "$DIR/pg/postmaster.pid" \
    --http-listen "127.0.0.1:$((AGENT_HTTP_PORT + 2))" \
    --pg-conninfo "host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres connect_timeout=2" \
    --backup-dir "$DIR/backups"
  wait_for 20 "agents" bash -c "curl -fsS -H 'Authorization: Bearer $(cat "$CREDS/admin.token")' $URL/v1/agents | grep -o '\"state\":\"alive\"' | wc -l | grep -qx 3"

  cat <<MSG

noa demo is running (state and logs in $DIR).
  REST API     $URL   (try: curl -H "Authorization: Bearer \$(cat $CREDS/admin.token)" $URL/v1/agents)
  agents       ZeroMQ + CURVE on tcp://127.0.0.1:$ZMQ_PORT (keys enrolled through $CREDS/allowlist)
  noactl       uses $NOACTL_CONFIG (controller URL + the demo's admin token)
  metrics      $URL/metrics   (agents: http://127.0.0.1:$AGENT_HTTP_PORT/metrics, :$((AGENT_HTTP_PORT + 1)), :$((AGENT_HTTP_PORT + 2)))
  services     redis primary 127.0.0.1:$REDIS_PORT, replica :$REDIS_REPLICA_PORT; postgres 127.0.0.1:$PG_PORT

Try:
  noactl status
  noactl agents
  noactl services
  noactl service redis          # members, roles, replication lag, aggregates
  noactl top
  noactl agent redis-primary
  noactl keys list              # agent keys: accepted through the allowlist
  noactl audit                  # who changed what (mutating REST calls)
  noactl run ping --agent postgres-primary --wait
  noactl backup now postgres --wait      # pg_dump of 'app' on the primary, into $DIR/backups
  noactl backup list; noactl backup status
  noactl drill postgres --wait           # restore the newest dump into a scratch db, timed (RTO)
  noactl commands
  kill -9 \$(cat $DIR/pids/agent-redis-replica.pid); sleep 6; noactl agents   # -> lost
Stop everything:
  $0 down
MSG
}

down() {
  [[ -d $DIR/pids ]] || { say "nothing to stop"; return; }
  # Agents first, then the controller, then the services.
  for name in agent-postgres agent-redis-replica agent-redis-primary controller postgres redis-replica redis-primary; do
    local f="$DIR/pids/$name.pid"
    [[ -f $f ]] || continue
    local pid; pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
      say "stopped $name (pid $pid)"
    fi
    rm -f "$f"
  done
  if [[ -f $NOACTL_CONFIG ]] && grep -q "written by noa-demo" "$NOACTL_CONFIG"; then rm -f "$NOACTL_CONFIG"; fi
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) NOA_CONTROLLER_URL=$URL NOA_TOKEN_FILE=$CREDS/admin.token "$BUILD/controller/noactl" status ;;
  *) echo "usage: $0 up|status|down" >&2; exit 2 ;;
esac
