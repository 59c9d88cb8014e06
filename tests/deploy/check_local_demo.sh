#!/usr/bin/env bash
# The local demo launcher (deploy/local/noa-demo.sh), end to end with the build's binaries, on
# its own ports and directory (so it never meets a demo already running here): `up` within a
# bound; every agent alive and every service ready (`noactl agents -o json`, /v1/services);
# `noactl status` exits 0; postgres has a primary and a streaming replica (GET
# /v1/services/postgres, and pg_stat_replication names the replica's agent); the sample
# service's agent reports a request rate; a second `up` starts nothing new; `down` leaves no
# process of the demo running. A failure stops the demo all the same (trap) and prints its logs.
#   check_local_demo.sh NOA_CONTROLLER_BIN NOA_AGENT_BIN [NOACTL_BIN]
#   (no arguments: the binaries of $NOA_BUILD_DIR, default <repo>/build)
# Needs root, redis-server, PostgreSQL 15, curl, setpriv (deploy/install-deps.sh); Prometheus
# is used when installed.
source "$(dirname "$0")/lib.sh"
BUILD=${NOA_BUILD_DIR:-$ROOT/build}
CTL=${1:-$BUILD/controller/noa-controller}
AGENT=${2:-$BUILD/agent/noa-agent}
NOACTL=${3:-$(dirname "$CTL")/noactl}
require_bin "$CTL"; require_bin "$AGENT"; require_bin "$NOACTL"
[[ $(id -u) -eq 0 ]] || missing "root (the demo starts PostgreSQL as user postgres)" "run the test as root"
require_cmd redis-server "apt-get install redis-server"
require_cmd /usr/lib/postgresql/15/bin/postgres "apt-get install postgresql-15"
require_cmd curl "apt-get install curl"
require_cmd setpriv "apt-get install util-linux"
[[ -x $PY ]] || missing "$PY" "apt-get install python3"
id postgres >/dev/null 2>&1 || missing "user postgres" "apt-get install postgresql-15"
id redis >/dev/null 2>&1 || missing "user redis" "apt-get install redis-server"

DEMO=$ROOT/deploy/local/noa-demo.sh
chmod 755 "$WORK"  # the demo's services run as postgres, redis and nobody below it
export NOA_DEMO_DIR=$WORK/demo NOA_DEMO_SKIP_BUILD=1 NOA_DEMO_NOACTL_CONFIG=none
export NOA_DEMO_CONTROLLER_BIN=$CTL NOA_DEMO_AGENT_BIN=$AGENT NOA_DEMO_NOACTL_BIN=$NOACTL

# Ports: a block of 100 that nothing listens on (base+0..base+99).
port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
BASE=
for _ in $(seq 20); do
  b=$((20000 + (RANDOM % 120) * 100))
  ok_all=1
  for off in 0 1 10 11 20 21 30 31 32 33 40 41 42 50 51 52 90; do port_free $((b + off)) || { ok_all=0; break; }; done
  ((ok_all)) && { BASE=$b; break; }
done
[[ -n $BASE ]] || fail "found no free block of ports"
export NOA_DEMO_API_PORT=$BASE NOA_DEMO_ZMQ_PORT=$((BASE + 1))
export NOA_DEMO_REDIS_PORT=$((BASE + 10)) NOA_DEMO_REDIS_REPLICA_PORT=$((BASE + 11))
export NOA_DEMO_PG_PORT=$((BASE + 20)) NOA_DEMO_PG_REPLICA_PORT=$((BASE + 21))
export NOA_DEMO_AGENT_HTTP_PORT=$((BASE + 30)) NOA_DEMO_SAMPLE_PORT=$((BASE + 40))
export NOA_DEMO_SAMPLE_AGENT_PORT_PREFIX=$(((BASE + 50) / 10)) NOA_DEMO_PROMETHEUS_PORT=$((BASE + 90))
URL=http://127.0.0.1:$BASE
D=$WORK/demo
nctl() { "$NOACTL" --controller "$URL" --token-file "$D/credentials/admin.token" "$@"; }
api() { curl -fsS -H "Authorization: Bearer $(cat "$D/credentials/admin.token")" "$URL$1"; }

# Processes of this demo: a command line naming its directory, or a redis-server working in it.
demo_procs() {
  local p pid
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$D/"; then
      tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q "noa-demo.sh\|check_local_demo" || echo "$pid"
    elif [[ $(cat "$p/comm" 2>/dev/null) == redis-server && $(readlink "$p/cwd" 2>/dev/null)/ == "$D"/* ]]; then
      echo "$pid"
    fi
  done
}
DEMO_UP=0
demo_cleanup() {
  local rc=$?
  if ((rc != 0)) && [[ -d $D/logs ]]; then
    echo "--- demo logs (last lines) ---" >&2
    for f in "$D"/logs/*.log "$D"/sample/*.log; do
      [[ -s $f ]] && { echo "== $f" >&2; grep -v '"level":"debug"' "$f" | tail -n 12 | cut -c1-400 >&2; }
    done
  fi
  if ((DEMO_UP)); then bash "$DEMO" down >/dev/null 2>&1 || true; fi
  local left; left=$(demo_procs)
  # shellcheck disable=SC2086
  [[ -n $left ]] && kill -KILL $left 2>/dev/null
  cleanup
  exit "$rc"
}
trap demo_cleanup EXIT
trap 'exit 143' TERM HUP
trap 'exit 130' INT

# --- up, within a bound
DEMO_UP=1
start_s=$SECONDS
timeout 240 bash "$DEMO" up >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log" >&2; fail "noa-demo.sh up"; }
ok "up in $((SECONDS - start_s))s"
grep -qF "$URL" "$WORK/up.log" || fail "up did not print the REST URL"
grep -qF "$(cat "$D/credentials/admin.token")" "$WORK/up.log" || fail "up did not print the token"
wants=("noactl status" "noactl services" "noactl backup now postgres --wait"
  "kill -9 \$(head -1 $D/pg/postmaster.pid)" "noactl failover-status postgres"
  "noactl history postgres" "noactl decisions --service postgres" "noactl switchover postgres")
grep -q "^    autoscale:" "$D/policy.yaml" && wants+=("noactl autoscale sample")
for want in "${wants[@]}"; do
  grep -qF -- "$want" "$WORK/up.log" || { cat "$WORK/up.log" >&2; fail "up's try-this list lacks '$want'"; }
done
ok "up printed the REST URL, the token and the try-this list"

# --- every agent alive, every service ready, within a bound
AGENTS="redis-primary redis-replica postgres-primary postgres-replica sample-0"
check_fleet() {
  nctl agents -o json >"$WORK/agents.json" 2>"$WORK/noactl.err" || return 1
  api /v1/services >"$WORK/services.json" || return 1
  "$PY" - "$WORK/agents.json" "$WORK/services.json" $AGENTS <<'EOF'
import json, sys
agents = {a["id"]: a for a in json.load(open(sys.argv[1]))["agents"]}
services = json.load(open(sys.argv[2]))
services = services.get("services", services) if isinstance(services, dict) else services
problems = []
for want in sys.argv[3:]:
    a = agents.get(want)
    if a is None:
        problems.append(f"{want}: not registered")
    elif a.get("state") != "alive":
        problems.append(f"{want}: {a.get('state')}")
for s in services:
    if s.get("ready") != s.get("agents"):
        problems.append(f"service {s.get('name')}: {s.get('ready')} of {s.get('agents')} ready")
if problems:
    print("; ".join(problems))
    sys.exit(1)
EOF
}
deadline=$((SECONDS + 60))
until check_fleet >"$WORK/fleet.out"; do
  ((SECONDS < deadline)) || fail "within 60s: $(cat "$WORK/fleet.out" "$WORK/noactl.err" 2>/dev/null)"
  sleep 1
done
ok "every agent alive ($AGENTS), every service ready"
rc=0; nctl status >"$WORK/status.out" 2>&1 || rc=$?
((rc == 0)) || { cat "$WORK/status.out" >&2; fail "noactl status exited $rc"; }
ok "noactl status exits 0"

# --- postgres: a primary and a streaming replica
check_pg() {
  api /v1/services/postgres >"$WORK/pg.json" || return 1
  "$PY" - "$WORK/pg.json" <<'EOF' || return 1
import json, sys
s = json.load(open(sys.argv[1]))
roles = {m["id"]: m.get("role") for m in s.get("members", [])}
if roles.get("postgres-primary") != "primary" or roles.get("postgres-replica") != "replica":
    print(f"roles {roles}, replication {s.get('replication')}")
    sys.exit(1)
EOF
  [[ $(runuser -u postgres -- psql -h 127.0.0.1 -p "$NOA_DEMO_PG_PORT" -XAtqc \
    "select state from pg_stat_replication where application_name = 'postgres-replica'") == streaming ]] ||
    { echo "pg_stat_replication shows no streaming postgres-replica" >"$WORK/pg.out"; return 1; }
}
deadline=$((SECONDS + 30))
until check_pg >"$WORK/pg.out"; do
  ((SECONDS < deadline)) || fail "postgres primary + replica within 30s: $(cat "$WORK/pg.out")"
  sleep 1
done
sleep 3  # and still so a few seconds later (no self-inflicted failover after the start)
check_pg >"$WORK/pg.out" || fail "postgres roles changed after the start: $(cat "$WORK/pg.out")"
ok "postgres: postgres-primary is primary, postgres-replica a streaming replica"

# --- the sample service's agent reports a request rate
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$NOA_DEMO_SAMPLE_PORT/" >/dev/null || true; done
rate_reported() {
  api /v1/agents/sample-0 | "$PY" -c '
import json, sys
m = json.load(sys.stdin).get("metrics") or {}
r = m.get("http_requests_per_second")
sys.exit(0 if isinstance(r, (int, float)) and r > 0 else 1)'
}
deadline=$((SECONDS + 20))
until rate_reported; do
  ((SECONDS < deadline)) || fail "sample-0 reported no http_requests_per_second within 20s"
  sleep 1
done
ok "sample-0 reports http_requests_per_second"
if command -v prometheus >/dev/null && [[ ${NOA_DEMO_PROMETHEUS:-1} != 0 ]]; then
  deadline=$((SECONDS + 20))
  until curl -fsS "http://127.0.0.1:$NOA_DEMO_PROMETHEUS_PORT/-/ready" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "Prometheus not ready within 20s"
    sleep 1
  done
  ok "Prometheus runs"
fi

# --- up again: nothing new is started
before=$(cat "$D"/pids/*.pid | sort | tr '\n' ' ')
timeout 120 bash "$DEMO" up >"$WORK/up2.log" 2>&1 || { cat "$WORK/up2.log" >&2; fail "second up"; }
after=$(cat "$D"/pids/*.pid | sort | tr '\n' ' ')
[[ $before == "$after" ]] || fail "second up changed the processes: '$before' -> '$after'"
check_pg >"$WORK/pg.out" || fail "after the second up: $(cat "$WORK/pg.out")"
ok "a second up starts nothing new"

# --- down: nothing of the demo is left
timeout 120 bash "$DEMO" down >"$WORK/down.log" 2>&1 || { cat "$WORK/down.log" >&2; fail "noa-demo.sh down"; }
DEMO_UP=0
left=$(demo_procs)
if [[ -n $left ]]; then
  # shellcheck disable=SC2086
  ps -o pid,user,args -p "$(echo $left | tr ' ' ,)" >&2 || true
  fail "processes left after down: $left"
fi
ok "down stopped everything"
