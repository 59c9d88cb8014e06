#!/usr/bin/env bash
# The local demo, without Docker: real redis-server (primary + replica), a real PostgreSQL
# primary + streaming replica and a sample HTTP service as local processes, an agent beside
# each, the controller, and (if installed) Prometheus scraping them.
#
#   deploy/local/noa-demo.sh up      install packages, build, start everything, print how to reach it
#   deploy/local/noa-demo.sh status  noactl status
#   deploy/local/noa-demo.sh load [SECONDS] [RPS]   send requests to the sample service
#   deploy/local/noa-demo.sh down    stop everything it started (by PID) and leave nothing running
#
# `up` twice is safe (what runs is left alone); `down` also stops postmasters that agents
# started later (failover, rejoin) and sample replicas the autoscaler started, from their
# pidfiles. State lives in $NOA_DEMO_DIR (default /var/tmp/noa-demo).
#
# Settings (environment):
#   NOA_DEMO_DIR                  state, logs, data dirs (default /var/tmp/noa-demo)
#   NOA_BUILD_DIR                 build tree (default <repo>/build)
#   NOA_DEMO_SKIP_BUILD=1         no package install, no build, no /usr/local/bin links: use the
#                                 binaries below as they are (the smoke test does this)
#   NOA_DEMO_CONTROLLER_BIN, NOA_DEMO_AGENT_BIN, NOA_DEMO_NOACTL_BIN   binaries (default: the build tree's)
#   NOA_DEMO_NOACTL_CONFIG        noactl config file written by up, removed by down
#                                 (default /etc/noa/noactl.yaml; "none": not written)
#   NOA_DEMO_PROMETHEUS=0         do not start Prometheus even when installed
#   NOA_DEMO_AUTOSCALE=0          no autoscale section for the sample service in the policy file
#   NOA_DEMO_REPORT_INTERVAL      agents' report interval (default 500ms)
#   Ports (NOA_DEMO_*_PORT): API 7700, ZMQ 7701, REDIS 7379, REDIS_REPLICA 7380, PG 7432,
#   PG_REPLICA 7433, AGENT_HTTP 7711 (agents' own /health + /metrics: 7711-7714), SAMPLE 7800
#   (replica i on 7800+i), PROMETHEUS 7790; NOA_DEMO_SAMPLE_AGENT_PORT_PREFIX=772 (the agent of
#   sample replica i serves on 772i), NOA_DEMO_SAMPLE_MAX_REPLICAS=3 (1-10).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${NOA_DEMO_DIR:-/var/tmp/noa-demo}
BUILD=${NOA_BUILD_DIR:-$ROOT/build}
CONTROLLER_BIN=${NOA_DEMO_CONTROLLER_BIN:-$BUILD/controller/noa-controller}
AGENT_BIN=${NOA_DEMO_AGENT_BIN:-$BUILD/agent/noa-agent}
NOACTL_BIN=${NOA_DEMO_NOACTL_BIN:-$BUILD/controller/noactl}
# Absolute paths: the policy file hands the agent's to the controller (autoscaled replicas).
abs_path() { [[ $1 == /* ]] && echo "$1" || echo "$PWD/$1"; }
CONTROLLER_BIN=$(abs_path "$CONTROLLER_BIN") AGENT_BIN=$(abs_path "$AGENT_BIN") NOACTL_BIN=$(abs_path "$NOACTL_BIN")
API_PORT=${NOA_DEMO_API_PORT:-7700}
ZMQ_PORT=${NOA_DEMO_ZMQ_PORT:-7701}
REDIS_PORT=${NOA_DEMO_REDIS_PORT:-7379}
REDIS_REPLICA_PORT=${NOA_DEMO_REDIS_REPLICA_PORT:-7380}
PG_PORT=${NOA_DEMO_PG_PORT:-7432}
PG_REPLICA_PORT=${NOA_DEMO_PG_REPLICA_PORT:-7433}
AGENT_HTTP_PORT=${NOA_DEMO_AGENT_HTTP_PORT:-7711}  # redis primary, redis replica, pg primary, pg replica
SAMPLE_PORT=${NOA_DEMO_SAMPLE_PORT:-7800}
SAMPLE_AGENT_PREFIX=${NOA_DEMO_SAMPLE_AGENT_PORT_PREFIX:-772}
SAMPLE_MAX=${NOA_DEMO_SAMPLE_MAX_REPLICAS:-3}
PROM_PORT=${NOA_DEMO_PROMETHEUS_PORT:-7790}
# Reports (and so lease renewals) every 500 ms: with 1 s the first lease grant reaches a new
# agent about 2 s after its start, as late as its startup grace (--lease, 2 s) ends, and the
# primary may fence itself at once (issue 8 report).
REPORT_INTERVAL=${NOA_DEMO_REPORT_INTERVAL:-500ms}
NOACTL_CONFIG=${NOA_DEMO_NOACTL_CONFIG:-/etc/noa/noactl.yaml}
PG_BIN=/usr/lib/postgresql/15/bin
PY=/usr/bin/python3
URL="http://127.0.0.1:$API_PORT"
CREDS=$DIR/credentials
PG_PRIMARY_DIR=$DIR/pg          # agent postgres-primary (its name stays after a failover)
PG_REPLICA_DIR=$DIR/pg-replica  # agent postgres-replica
SAMPLE_DIR=$DIR/sample          # the autoscaler's local actuator state: <replica>.pids, <replica>.log

say() { echo "noa-demo: $*"; }
die() { echo "noa-demo: $*" >&2; exit 1; }

# True when PID runs and its command line mentions this demo's directory, or it is a
# redis-server (which rewrites its command line) working in it: a PID from an old pidfile that
# now belongs to something else is never touched.
ours() {
  local pid=$1
  [[ $pid =~ ^[0-9]+$ ]] && ((pid > 1)) && [[ -r /proc/$pid/cmdline ]] || return 1
  [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$DIR/" && return 0
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == redis-server ]] &&
    [[ $(readlink "/proc/$pid/cwd" 2>/dev/null)/ == "$DIR"/* ]]
}
pidfile_pid() { [[ -f $1 ]] && head -1 "$1" 2>/dev/null | tr -dc 0-9; true; }

# start NAME -- CMD...: runs CMD detached (own session), output in logs/NAME.log, pid in
# pids/NAME.pid; nothing happens when NAME runs already. CMD must exec the long-lived process
# itself (setpriv, not runuser, to change users), so the pid is the process's own.
start() {
  local name=$1; shift
  [[ $1 == -- ]] && shift
  local pid; pid=$(pidfile_pid "$DIR/pids/$name.pid")
  if [[ -n $pid ]] && ours "$pid"; then say "$name already running (pid $pid)"; return; fi
  setsid "$@" >>"$DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$name.pid"
}
as_user() { echo setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups --; }

# Security as in production, with local files: the controller's CURVE key pair, each agent's
# key pair enrolled through an allowlist, an admin bearer token for the REST API, and a noactl
# config file pointing at it (only written when absent or written by this script).
agent_ids() {
  echo redis-primary:redis redis-replica:redis postgres-primary:postgres postgres-replica:postgres
  for ((i = 0; i < SAMPLE_MAX; i++)); do echo "sample-$i:nobody"; done
}
secure_setup() {
  mkdir -p "$CREDS" "$DIR/agents" && chmod 700 "$CREDS"
  "$CONTROLLER_BIN" keygen --key-dir "$CREDS/controller-keys" >/dev/null \
    2>"$DIR/logs/keygen.log" || die "noa-controller keygen failed: $(cat "$DIR/logs/keygen.log")"
  touch "$CREDS/allowlist"
  # Agents run as the service's own user (--run-as), so their state dirs belong to it; they read
  # the controller's public key from a world-readable copy.
  install -m 644 "$CREDS/controller-keys/controller.pub" "$DIR/agents/controller.pub"
  local entry id user key
  for entry in $(agent_ids); do
    id=${entry%%:*} user=${entry#*:}
    key=$("$AGENT_BIN" show-key --state-dir "$DIR/agents/$id" | awk '$1 == "public_key" {print $2}')
    [[ -n $key ]] || die "noa-agent show-key printed no key for $id"
    chown -R "$user:$(id -gn "$user")" "$DIR/agents/$id"
    grep -qxF "$id $key" "$CREDS/allowlist" || echo "$id $key" >>"$CREDS/allowlist"
  done
  if [[ ! -s $CREDS/admin.token ]]; then
    rm -f "$CREDS/api-tokens"
    (umask 077; "$CONTROLLER_BIN" token new --name demo-admin --role admin \
      --tokens-file "$CREDS/api-tokens" >"$CREDS/admin.token" 2>"$DIR/logs/token.log") ||
      die "noa-controller token new failed: $(cat "$DIR/logs/token.log")"
  fi
  [[ $NOACTL_CONFIG == none ]] && return
  if [[ ! -f $NOACTL_CONFIG ]] || grep -q "written by noa-demo" "$NOACTL_CONFIG"; then
    mkdir -p "$(dirname "$NOACTL_CONFIG")"
    printf '# written by noa-demo (deploy/local/noa-demo.sh); removed by its "down"\ncontroller: %s\ntoken_file: %s\n' \
      "$URL" "$CREDS/admin.token" >"$NOACTL_CONFIG"
    chmod 600 "$NOACTL_CONFIG"
  else
    say "$NOACTL_CONFIG exists and is not ours: set NOA_TOKEN_FILE=$CREDS/admin.token for noactl"
  fi
}

# The sample service's replica i and its agent, as argv templates of the autoscaler's `local`
# actuator ({port}, {replica}, {index} are filled in); up starts replica 0 from the same
# templates and records it in the actuator's pidfile format, so the autoscaler adopts it.
sample_command() {
  printf '%s\n' setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$PY" \
    "$DIR/bin/sample-service.py" serve --port "{port}" --name "{replica}" \
    --pidfile "$SAMPLE_DIR/run/{replica}.pid"
}
sample_agent_command() {
  printf '%s\n' "$AGENT_BIN" --agent-id "{replica}" --service sample --kind http \
    --state-dir "$DIR/agents/{replica}" --run-as nobody --service-port "{port}" \
    --controller "tcp://127.0.0.1:$ZMQ_PORT" --controller-public-key-file "$DIR/agents/controller.pub" \
    --report-interval "$REPORT_INTERVAL" --metrics-url "http://127.0.0.1:{port}/metrics" --service-pidfile "$SAMPLE_DIR/run/{replica}.pid" \
    --http-listen "127.0.0.1:$SAMPLE_AGENT_PREFIX{index}"
}
fill() {  # fill INDEX < template lines -> argv lines
  local i=$1
  sed -e "s/{port}/$((SAMPLE_PORT + i))/g" -e "s/{replica}/sample-$i/g" -e "s/{index}/$i/g"
}
yaml_list() {  # template lines -> [a, "b", ...] (every item double-quoted)
  local out="" line
  while IFS= read -r line; do
    line=${line//\\/\\\\}; line=${line//\"/\\\"}
    out+="${out:+, }\"$line\""
  done
  echo "[$out]"
}

# The controller's policy file: the seed's defaults (daily dump kept 30 days, weekly drill,
# RPO 15 minutes, RTO 1 hour) for the demo's 'app' database; failover with the defaults
# (lease 2 s); the sample service autoscaled on requests per second per replica.
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
  [[ ${NOA_DEMO_AUTOSCALE:-1} == 0 ]] && return
  cat >>"$DIR/policy.yaml" <<YAML
  sample:
    autoscale:
      min_replicas: 1
      max_replicas: $SAMPLE_MAX
      metrics:
        - pods: {name: http_requests_per_second, average_value: 50}   # per replica
      behavior:
        scaleDown: {stabilizationWindowSeconds: 60}
      actuator:
        type: local
        state_dir: $SAMPLE_DIR
        base_port: $SAMPLE_PORT
        command: $(sample_command | yaml_list)
        agent_command: $(sample_agent_command | yaml_list)
YAML
}

wait_for() {  # wait_for SECONDS DESCRIPTION CMD...
  local secs=$1 what=$2 i; shift 2
  for ((i = 0; i < secs * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "$what did not come up within ${secs}s (logs in $DIR/logs)"
}

# PostgreSQL: both servers run with what streaming replication, failover and pg_rewind need.
# The agents restart a server with the command line it last ran with (postmaster.opts), so these
# settings and the port survive a fence, a promotion and a rejoin.
pg_opts() {  # pg_opts PORT
  echo "-c port=$1 -c listen_addresses=127.0.0.1 -c unix_socket_directories=$DIR/pgsock" \
    "-c wal_level=replica -c max_wal_senders=10 -c wal_keep_size=128MB -c hot_standby=on" \
    "-c wal_log_hints=on"
}
pg_running() { local pid; pid=$(pidfile_pid "$1/postmaster.pid"); [[ -n $pid ]] && ours "$pid"; }
agent_running() { local pid; pid=$(pidfile_pid "$DIR/pids/agent-$1.pid"); [[ -n $pid ]] && ours "$pid"; }
pg_start() {  # pg_start NAME DATA_DIR PORT
  local name=$1 data=$2 port=$3
  if pg_running "$data"; then say "$name already running (pid $(pidfile_pid "$data/postmaster.pid"))"; return; fi
  # Once its agent runs, the server is the agent's: it may have stopped it on purpose (a fence,
  # a rejoin in progress), and starting it here would undo that.
  if agent_running "$name"; then
    say "$name is not running; its agent manages it (see: noactl failover-status postgres)"; return
  fi
  touch "$DIR/logs/$name.log" && chown postgres: "$DIR/logs/$name.log"
  # pg_ctl daemonizes the postmaster; its pid is the first line of DATA_DIR/postmaster.pid.
  setsid runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -l "$DIR/logs/$name.log" \
    -o "$(pg_opts "$port")" -w -t 60 start >>"$DIR/logs/pg_ctl.log" 2>&1 </dev/null ||
    die "$name did not start (see $DIR/logs/$name.log)"
}
psql_at() { local port=$1; shift; runuser -u postgres -- psql -h 127.0.0.1 -p "$port" -XAtq "$@"; }

postgres_up() {
  mkdir -p "$DIR/pgsock" && chown postgres: "$DIR/pgsock"
  if [[ ! -f $PG_PRIMARY_DIR/PG_VERSION ]]; then
    mkdir -p "$PG_PRIMARY_DIR"; chown postgres: "$PG_PRIMARY_DIR"; chmod 700 "$PG_PRIMARY_DIR"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_PRIMARY_DIR" -A trust -U postgres >>"$DIR/logs/initdb.log" 2>&1 ||
      die "initdb failed (see $DIR/logs/initdb.log)"
  fi
  pg_start postgres-primary "$PG_PRIMARY_DIR" "$PG_PORT"
  pg_running "$PG_PRIMARY_DIR" &&
    wait_for 20 "postgres-primary" runuser -u postgres -- "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT"
  # A small application database for the backup demo (once, on whichever server is primary).
  if pg_running "$PG_PRIMARY_DIR" && [[ $(psql_at "$PG_PORT" -c "select pg_is_in_recovery()") == f ]] &&
     [[ -z $(psql_at "$PG_PORT" -c "select 1 from pg_database where datname = 'app'") ]]; then
    psql_at "$PG_PORT" -c "create database app" >>"$DIR/logs/initdb.log"
    psql_at "$PG_PORT" -d app -c \
      "create table orders (id bigint primary key, note text); insert into orders select g, md5(g::text) from generate_series(1, 50000) g" \
      >>"$DIR/logs/initdb.log"
  fi
  # The streaming replica: a base backup of the primary (once), primary_conninfo naming its
  # agent id (application_name: how the primary's pg_stat_replication and the controller match
  # the standby to its agent).
  if [[ ! -f $PG_REPLICA_DIR/PG_VERSION ]]; then
    pg_running "$PG_PRIMARY_DIR" || die "postgres-primary is not running: cannot make the replica"
    rm -rf "$PG_REPLICA_DIR.tmp"
    mkdir -p "$PG_REPLICA_DIR.tmp"; chown postgres: "$PG_REPLICA_DIR.tmp"; chmod 700 "$PG_REPLICA_DIR.tmp"
    runuser -u postgres -- "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres \
      -D "$PG_REPLICA_DIR.tmp" -R -X stream -c fast >>"$DIR/logs/initdb.log" 2>&1 ||
      die "pg_basebackup failed (see $DIR/logs/initdb.log)"
    local conninfo="host=127.0.0.1 port=$PG_PORT user=postgres application_name=postgres-replica"
    runuser -u postgres -- sed -i "/^primary_conninfo\b/d" "$PG_REPLICA_DIR.tmp/postgresql.auto.conf"
    echo "primary_conninfo = '$conninfo'" | runuser -u postgres -- tee -a "$PG_REPLICA_DIR.tmp/postgresql.auto.conf" >/dev/null
    rm -f "$PG_REPLICA_DIR.tmp/postmaster.opts"
    mv "$PG_REPLICA_DIR.tmp" "$PG_REPLICA_DIR"
  fi
  pg_start postgres-replica "$PG_REPLICA_DIR" "$PG_REPLICA_PORT"
  pg_running "$PG_REPLICA_DIR" &&
    wait_for 20 "postgres-replica" runuser -u postgres -- "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_REPLICA_PORT"
  mkdir -p "$DIR/backups" && chown postgres: "$DIR/backups" && chmod 700 "$DIR/backups"
}

prometheus_up() {
  [[ ${NOA_DEMO_PROMETHEUS:-1} == 0 ]] && return
  if ! command -v prometheus >/dev/null; then
    say "prometheus is not installed: skipping it (apt-get install prometheus to add it)"; return
  fi
  local P=$DIR/prometheus
  mkdir -p "$P/data" "$P/rules"
  cp "$ROOT"/deploy/prometheus/rules/*.yml "$P/rules/" 2>/dev/null || true
  {
    cat <<YAML
# written by noa-demo (deploy/local/noa-demo.sh): the demo's controller and agents; alert rules
# from deploy/prometheus/rules.
global: {scrape_interval: 5s, evaluation_interval: 5s, external_labels: {environment: local-demo}}
rule_files: ["$P/rules/*.yml"]
scrape_configs:
  - job_name: noa-controller
    static_configs: [{targets: ["127.0.0.1:$API_PORT"]}]
  - job_name: noa-agents
    static_configs:
      - {targets: ["127.0.0.1:$AGENT_HTTP_PORT"], labels: {agent: redis-primary, service: redis}}
      - {targets: ["127.0.0.1:$((AGENT_HTTP_PORT + 1))"], labels: {agent: redis-replica, service: redis}}
      - {targets: ["127.0.0.1:$((AGENT_HTTP_PORT + 2))"], labels: {agent: postgres-primary, service: postgres}}
      - {targets: ["127.0.0.1:$((AGENT_HTTP_PORT + 3))"], labels: {agent: postgres-replica, service: postgres}}
YAML
    for ((i = 0; i < SAMPLE_MAX; i++)); do
      echo "      - {targets: [\"127.0.0.1:$SAMPLE_AGENT_PREFIX$i\"], labels: {agent: sample-$i, service: sample}}"
    done
    echo "  - job_name: sample"
    echo "    static_configs:"
    for ((i = 0; i < SAMPLE_MAX; i++)); do
      echo "      - {targets: [\"127.0.0.1:$((SAMPLE_PORT + i))\"], labels: {replica: sample-$i, service: sample}}"
    done
  } >"$P/prometheus.yml"
  if command -v promtool >/dev/null && ! promtool check config "$P/prometheus.yml" >"$DIR/logs/promtool.log" 2>&1; then
    say "promtool rejects the rules (see $DIR/logs/promtool.log): Prometheus runs without them"
    sed -i 's|^rule_files:.*|rule_files: []|' "$P/prometheus.yml"
  fi
  local user=nobody; id prometheus >/dev/null 2>&1 && user=prometheus
  chown -R "$user:" "$P"
  # shellcheck disable=SC2046
  start prometheus -- $(as_user "$user") prometheus --config.file="$P/prometheus.yml" \
    --storage.tsdb.path="$P/data" --web.listen-address="127.0.0.1:$PROM_PORT" --storage.tsdb.retention.time=2d
  PROM_STARTED=1
}

up() {
  [[ $(id -u) -eq 0 ]] || die "run as root (it installs packages and starts PostgreSQL as user postgres)"
  ((SAMPLE_MAX >= 1 && SAMPLE_MAX <= 10)) || die "NOA_DEMO_SAMPLE_MAX_REPLICAS must be 1-10"
  if [[ ${NOA_DEMO_SKIP_BUILD:-0} != 1 ]]; then
    bash "$ROOT/deploy/install-deps.sh"
    NOA_BUILD_DIR=$BUILD bash "$ROOT/deploy/build.sh"
    for bin in "noa-controller:$CONTROLLER_BIN" "noa-agent:$AGENT_BIN" "noactl:$NOACTL_BIN"; do
      ln -sf "${bin#*:}" "/usr/local/bin/${bin%%:*}"
    done
  fi
  for b in "$CONTROLLER_BIN" "$AGENT_BIN" "$NOACTL_BIN"; do [[ -x $b ]] || die "$b is not an executable"; done
  for t in redis-server "$PG_BIN/postgres" "$PY" curl setpriv; do
    command -v "$t" >/dev/null || die "$t is missing (deploy/install-deps.sh installs it)"
  done
  mkdir -p "$DIR/pids" "$DIR/logs" "$DIR/redis-primary" "$DIR/redis-replica" "$DIR/controller" "$DIR/bin"
  chmod 755 "$DIR" "$DIR/bin"

  start redis-primary -- redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DIR/redis-primary" \
    --save "" --appendonly yes
  start redis-replica -- redis-server --port "$REDIS_REPLICA_PORT" --bind 127.0.0.1 \
    --dir "$DIR/redis-replica" --save "" --appendonly yes --replicaof 127.0.0.1 "$REDIS_PORT"
  postgres_up

  # The sample service (replica 0; the autoscaler adds sample-1.. under load).
  install -m 755 "$ROOT/deploy/local/sample-service.py" "$DIR/bin/sample-service.py"
  mkdir -p "$SAMPLE_DIR/run" && chown nobody:nogroup "$SAMPLE_DIR/run"
  write_policy
  secure_setup
  local -a sample0 sample0_agent
  mapfile -t sample0 < <(sample_command | fill 0)
  mapfile -t sample0_agent < <(sample_agent_command | fill 0)
  start sample-0 -- "${sample0[@]}"
  wait_for 10 "the sample service" curl -fsS "http://127.0.0.1:$SAMPLE_PORT/health"

  start controller -- "$CONTROLLER_BIN" --controller-id demo --data-dir "$DIR/controller" \
    --listen "tcp://127.0.0.1:$ZMQ_PORT" --api-listen "127.0.0.1:$API_PORT" \
    --key-dir "$CREDS/controller-keys" --allowlist-file "$CREDS/allowlist" \
    --api-tokens-file "$CREDS/api-tokens" --policy-file "$DIR/policy.yaml" \
    --report-interval "$REPORT_INTERVAL"
  wait_for 15 "controller" curl -fsS "$URL/v1/health"

  local agent=$AGENT_BIN
  local ctl=(--controller "tcp://127.0.0.1:$ZMQ_PORT"
    --controller-public-key-file "$DIR/agents/controller.pub" --report-interval "$REPORT_INTERVAL")
  # Each agent probes its service, reports the CPU and memory of the service's process tree
  # (from its pidfile) and serves its own /health* and /metrics. The PostgreSQL agents know
  # their data dir (fencing, promotion, rejoin with pg_rewind) and keep the default lease (2 s).
  start agent-redis-primary -- "$agent" --agent-id redis-primary --service redis --kind redis \
    --state-dir "$DIR/agents/redis-primary" --run-as redis \
    --service-port "$REDIS_PORT" "${ctl[@]}" --service-pidfile "$DIR/pids/redis-primary.pid" \
    --http-listen "127.0.0.1:$AGENT_HTTP_PORT"
  start agent-redis-replica -- "$agent" --agent-id redis-replica --service redis --kind redis \
    --state-dir "$DIR/agents/redis-replica" --run-as redis \
    --service-port "$REDIS_REPLICA_PORT" "${ctl[@]}" \
    --service-pidfile "$DIR/pids/redis-replica.pid" --http-listen "127.0.0.1:$((AGENT_HTTP_PORT + 1))"
  local id data port n=2
  for id in postgres-primary postgres-replica; do
    data=$PG_PRIMARY_DIR port=$PG_PORT
    [[ $id == postgres-replica ]] && data=$PG_REPLICA_DIR port=$PG_REPLICA_PORT
    start "agent-$id" -- "$agent" --agent-id "$id" --service postgres --kind postgres \
      --state-dir "$DIR/agents/$id" --run-as postgres "${ctl[@]}" \
      --service-host 127.0.0.1 --service-port "$port" --pg-data-dir "$data" \
      --service-pidfile "$data/postmaster.pid" --http-listen "127.0.0.1:$((AGENT_HTTP_PORT + n))" \
      --pg-conninfo "host=127.0.0.1 port=$port user=postgres dbname=postgres connect_timeout=2" \
      --backup-dir "$DIR/backups"
    n=$((n + 1))
  done
  start agent-sample-0 -- "${sample0_agent[@]}"
  # The autoscaler's local actuator adopts replica 0 from this file (service pid, agent pid).
  printf '%s\n%s\n' "$(cat "$DIR/pids/sample-0.pid")" "$(cat "$DIR/pids/agent-sample-0.pid")" \
    >"$SAMPLE_DIR/sample-0.pids"
  prometheus_up

  local expected=5
  wait_for 30 "agents" bash -c "curl -fsS -H 'Authorization: Bearer $(cat "$CREDS/admin.token")' $URL/v1/agents | grep -o '\"state\":\"alive\"' | wc -l | awk '\$1 < $expected {exit 1}'"

  local token me=$ROOT/deploy/local/noa-demo.sh
  token=$(cat "$CREDS/admin.token")
  local env_line=""  # how noactl finds this controller when there is no config file for it
  if [[ $NOACTL_CONFIG != /etc/noa/noactl.yaml || ${NOA_DEMO_SKIP_BUILD:-0} == 1 || $API_PORT != 7700 ]]; then
    env_line="  export NOA_CONTROLLER_URL=$URL NOA_TOKEN_FILE=$CREDS/admin.token PATH=$(dirname "$NOACTL_BIN"):\$PATH
"
  fi
  local prom_line="not running (apt-get install prometheus, then up again)"
  [[ -n ${PROM_STARTED:-} ]] && prom_line="http://127.0.0.1:$PROM_PORT   (scrapes the controller, the agents and the sample service)"
  cat <<MSG

noa demo is running (state and logs in $DIR).
  REST API     $URL
  token        $token   (admin; also in $CREDS/admin.token)
               curl -H "Authorization: Bearer $token" $URL/v1/agents
  agents       ZeroMQ + CURVE on tcp://127.0.0.1:$ZMQ_PORT (keys enrolled through $CREDS/allowlist)
  noactl       $( [[ $NOACTL_CONFIG == none ]] && echo "(no config file written)" || echo "uses $NOACTL_CONFIG (controller URL + the demo's admin token)")
  metrics      $URL/metrics   (agents: http://127.0.0.1:$AGENT_HTTP_PORT/metrics .. :$((AGENT_HTTP_PORT + 3)), sample-0's :${SAMPLE_AGENT_PREFIX}0)
  prometheus   $prom_line
  services     redis primary 127.0.0.1:$REDIS_PORT, replica :$REDIS_REPLICA_PORT
               postgres primary 127.0.0.1:$PG_PORT ($PG_PRIMARY_DIR), streaming replica :$PG_REPLICA_PORT ($PG_REPLICA_DIR)
               sample http://127.0.0.1:$SAMPLE_PORT/  (/health, /health/ready, /health/startup, /metrics)

Try:
${env_line}  noactl status
  noactl services
  noactl service postgres       # primary, replica, replication lag
  noactl top                    # CPU, memory, requests/s per service
  noactl backup now postgres --wait      # pg_dump of 'app' on the primary, into $DIR/backups
  noactl backup list; noactl backup status
  # failover: kill the postgres primary, then watch the replica take over
  kill -9 \$(head -1 $PG_PRIMARY_DIR/postmaster.pid)
  noactl failover-status postgres
  noactl history postgres
  noactl decisions --service postgres
  noactl switchover postgres    # planned: hand the primary role to the best replica
MSG
  if grep -q "^    autoscale:" "$DIR/policy.yaml"; then
    cat <<MSG
  # autoscaling: raise load on the sample service (target 50 requests/s per replica)
  $me load 120 300 &
  noactl autoscale sample
MSG
  fi
  cat <<MSG
Stop everything:
  $me down
MSG
}

# stop_pid NAME PID [SIGNAL]: SIGNAL (default TERM), up to 15 s, then KILL.
stop_pid() {
  local name=$1 pid=$2 sig=${3:-TERM}
  ours "$pid" || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  await_pid "$name" "$pid"
}
await_pid() {  # await_pid NAME PID [TENTHS]: up to 15 s (or TENTHS/10 s) after its signal, then KILL
  local name=$1 pid=$2 i
  for ((i = 0; i < ${3:-150}; i++)); do ours "$pid" || break; sleep 0.1; done
  if ours "$pid"; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
  say "stopped $name (pid $pid)"
}

down() {
  [[ -d $DIR ]] || { say "nothing to stop"; return; }
  local f pid name
  # The controller first (so it neither fails over nor scales while things stop), then every
  # agent at once (so nothing restarts a server, and none outlives the others long enough to
  # fence on a missing lease), then the services.
  f=$DIR/pids/controller.pid
  [[ -f $f ]] && stop_pid controller "$(pidfile_pid "$f")"; rm -f "$f"
  local -a agents=() names=()
  for f in "$DIR"/pids/agent-*.pid; do
    [[ -f $f ]] || continue
    agents+=("$(pidfile_pid "$f")"); names+=("$(basename "$f" .pid)"); rm -f "$f"
  done
  for f in "$SAMPLE_DIR"/*.pids; do  # sample replicas (ours or the autoscaler's): service, agent
    [[ -f $f ]] || continue
    pid=$(sed -n 2p "$f" | tr -dc 0-9)
    [[ " ${agents[*]} " == *" $pid "* ]] || { agents+=("$pid"); names+=("agent of $(basename "$f" .pids)"); }
  done
  local i alive=()
  for i in "${!agents[@]}"; do
    ours "${agents[$i]}" && { alive+=("$i"); kill -TERM "${agents[$i]}" 2>/dev/null || true; }
  done
  # (3 s for the sample's: those the controller started ignore SIGTERM, see below.)
  for i in "${alive[@]}"; do
    await_pid "${names[$i]}" "${agents[$i]}" "$([[ ${names[$i]} == *sample* ]] && echo 30 || echo 150)"
  done
  f=$DIR/pids/prometheus.pid
  [[ -f $f ]] && stop_pid prometheus "$(pidfile_pid "$f")"; rm -f "$f"
  # The sample replicas, at once too. Those the controller's local actuator started inherit its
  # blocked SIGTERM and SIGINT, so they end by SIGKILL after 3 s (stateless demo processes).
  local -a svc=() svc_names=()
  for f in "$SAMPLE_DIR"/*.pids; do
    [[ -f $f ]] || continue
    svc+=("$(sed -n 1p "$f" | tr -dc 0-9)"); svc_names+=("$(basename "$f" .pids)"); rm -f "$f"
  done
  for f in "$DIR"/pids/sample-*.pid; do
    [[ -f $f ]] || continue
    pid=$(pidfile_pid "$f"); rm -f "$f"
    [[ " ${svc[*]} " == *" $pid "* ]] || { svc+=("$pid"); svc_names+=("$(basename "$f" .pid)"); }
  done
  alive=()
  for i in "${!svc[@]}"; do
    ours "${svc[$i]}" && { alive+=("$i"); kill -TERM "${svc[$i]}" 2>/dev/null || true; }
  done
  for i in "${alive[@]}"; do await_pid "${svc_names[$i]}" "${svc[$i]}" 30; done
  # Every postmaster by its data dir's postmaster.pid, whoever started it (this script, or an
  # agent after a fence, promotion or rejoin): SIGINT is PostgreSQL's fast shutdown.
  for data in "$PG_REPLICA_DIR" "$PG_PRIMARY_DIR"; do
    pid=$(pidfile_pid "$data/postmaster.pid")
    [[ -n $pid ]] && stop_pid "postgres $(basename "$data")" "$pid" INT
  done
  for name in redis-replica redis-primary; do
    f=$DIR/pids/$name.pid
    [[ -f $f ]] && stop_pid "$name" "$(pidfile_pid "$f")"; rm -f "$f"
  done
  rm -f "$DIR"/pids/*.pid
  if [[ $NOACTL_CONFIG != none && -f $NOACTL_CONFIG ]] && grep -q "written by noa-demo" "$NOACTL_CONFIG"; then
    rm -f "$NOACTL_CONFIG"
  fi
  # Anything of the demo still running (a process whose command line names $DIR)?
  local left=()
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    ours "$pid" 2>/dev/null && left+=("$pid")
  done
  # The check itself (this script's own command line may name $DIR) is not a leftover.
  local real=()
  for pid in "${left[@]}"; do
    [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") == *noa-demo.sh* ]] || real+=("$pid")
  done
  if ((${#real[@]})); then
    say "still running after down: ${real[*]}"
    ps -o pid,user,args -p "$(IFS=,; echo "${real[*]}")" >&2 || true
    return 1
  fi
  say "everything stopped"
}

load() {
  local secs=${1:-60} rps=${2:-200}
  local -a urls=()
  for ((i = 0; i < SAMPLE_MAX; i++)); do urls+=(--url "http://127.0.0.1:$((SAMPLE_PORT + i))/"); done
  # Spread over the replicas that are ready (the autoscaler adds them as load rises).
  local script=$DIR/bin/sample-service.py; [[ -f $script ]] || script=$ROOT/deploy/local/sample-service.py
  "$PY" "$script" load "${urls[@]}" --seconds "$secs" --rps "$rps"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  load) shift; load "$@" ;;
  status) NOA_CONTROLLER_URL=$URL NOA_TOKEN_FILE=$CREDS/admin.token "$NOACTL_BIN" status ;;
  *) echo "usage: $0 up|status|load [SECONDS] [RPS]|down" >&2; exit 2 ;;
esac
