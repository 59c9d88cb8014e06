#!/usr/bin/env bash
# Agent footprint benchmark: memory and CPU of noa-agent at a 1 s report interval, with the
# controller and redis-server measured in the same run as a reference. Not a ctest test: it
# prints figures. See tests/bench/README.md.
#
#   tests/bench/agent_footprint.sh [--duration SECONDS] [--build-dir DIR]
#                                  [--agent-bin PATH] [--compare-agent-bin PATH]...
#
# --compare-agent-bin runs the same agents from another binary (e.g. a build from before a
# change) side by side in the same run, labelled with the binary's file name; repeatable.
# Everything it starts is killed by PID on exit, also on Ctrl-C or failure.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
duration=60
build_dir="$repo/build"
agent_bin=""
compare_bins=()
target_rss_kb=$((8 * 1024))
target_cpu_pct="1.0"

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --agent-bin) agent_bin="$2"; shift 2 ;;
    --compare-agent-bin) compare_bins+=("$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "agent_footprint: unknown argument '$1'" >&2; usage >&2; exit 1 ;;
  esac
done
[[ "$duration" =~ ^[0-9]+$ && "$duration" -ge 5 ]] || {
  echo "agent_footprint: --duration must be a whole number of seconds, at least 5" >&2; exit 1; }
controller_bin="${NOA_CONTROLLER_BIN:-$build_dir/controller/noa-controller}"
agent_bin="${agent_bin:-${NOA_AGENT_BIN:-$build_dir/agent/noa-agent}}"
for b in "$controller_bin" "$agent_bin" "${compare_bins[@]}"; do
  [[ -x "$b" ]] || { echo "agent_footprint: no executable $b (build first, or see --help)" >&2; exit 1; }
done
command -v redis-server >/dev/null || { echo "agent_footprint: needs redis-server" >&2; exit 1; }
command -v curl >/dev/null || { echo "agent_footprint: needs curl" >&2; exit 1; }

work="$(mktemp -d /tmp/noa-footprint.XXXXXX)"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_http() {  # URL, what
  for _ in $(seq 1 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "agent_footprint: $2 did not answer $1; its log:" >&2
  tail -n 20 "$work/$2.log" >&2
  exit 1
}

redis_port=$(free_port); zmq_port=$(free_port); api_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  >"$work/redis.log" 2>&1 &
pids+=($!); redis_pid=$!
# CURVE as in production: every agent's key pair is made and enrolled before the controller
# starts (no allowlist reload to wait for). The REST API runs without tokens (loopback only).
"$controller_bin" keygen --key-dir "$work/controller-keys" >/dev/null
: >"$work/allowlist"
enroll() {  # AGENT-ID
  local key
  key=$("$agent_bin" show-key --state-dir "$work/state-$1" | awk '$1 == "public_key" {print $2}')
  echo "$1 $key" >>"$work/allowlist"
}
labels=(this)
for b in "${compare_bins[@]}"; do labels+=("$(basename "$b")"); done
for label in "${labels[@]}"; do enroll "redis-$label"; enroll "http-$label"; done
"$controller_bin" --controller-id bench --data-dir "$work/controller-data" \
  --listen "tcp://127.0.0.1:$zmq_port" --api-listen "127.0.0.1:$api_port" --report-interval 1s \
  --key-dir "$work/controller-keys" --allowlist-file "$work/allowlist" --api-auth none \
  >"$work/controller.log" 2>&1 &
pids+=($!); controller_pid=$!
wait_http "http://127.0.0.1:$api_port/v1/health" controller

# Two agents per binary, both at a 1 s report interval, probing every 1 s, following
# redis-server's process tree and scraping the controller's /metrics (a real Prometheus text
# endpoint; the allowlist keeps out the controller's per-service aggregates of these very
# metrics, which would otherwise feed back into themselves):
#   redis: --kind redis beside redis-server, 2 built-in probes (readiness + liveness); no flag
#          adds a third probe to a kind.
#   http:  --kind http, the 3 built-in HTTP probes (liveness /health, readiness /health/ready,
#          startup /health/startup) against the redis agent's own listener, which serves them.
agent_names=(); agent_pids=()
start_agents() {  # BINARY, LABEL
  local bin="$1" label="$2" redis_http http_http
  local common=(--controller "tcp://127.0.0.1:$zmq_port" --report-interval 1s
                --controller-public-key-file "$work/controller-keys/controller.pub"
                --probe-period 1s --service-pid "$redis_pid"
                --metrics-url "http://127.0.0.1:$api_port/metrics"
                --metrics-allow 'noa_ingest_*,noa_api_requests_total')
  redis_http=$(free_port); http_http=$(free_port)
  "$bin" --agent-id "redis-$label" --state-dir "$work/state-redis-$label" --service redis --kind redis --service-port "$redis_port" \
    --http-listen "127.0.0.1:$redis_http" "${common[@]}" >"$work/agent-redis-$label.log" 2>&1 &
  pids+=($!); agent_pids+=($!); agent_names+=("agent redis 2 probes ($label)")
  wait_http "http://127.0.0.1:$redis_http/health/startup" "agent-redis-$label"
  "$bin" --agent-id "http-$label" --state-dir "$work/state-http-$label" --service agent-http --kind http --service-port "$redis_http" \
    --http-listen "127.0.0.1:$http_http" "${common[@]}" >"$work/agent-http-$label.log" 2>&1 &
  pids+=($!); agent_pids+=($!); agent_names+=("agent http 3 probes ($label)")
}
start_agents "$agent_bin" this
for b in "${compare_bins[@]}"; do start_agents "$b" "$(basename "$b")"; done

# Wait until every agent is registered and healthy, so start-up is not part of the CPU window.
n_agents=${#agent_pids[@]}
for _ in $(seq 1 150); do
  healthy=$(curl -sf "http://127.0.0.1:$api_port/v1/agents" |
    grep -o '"state":"healthy"' | wc -l || true)
  [[ "$healthy" -ge "$n_agents" ]] && break
  sleep 0.2
done
[[ "$healthy" -ge "$n_agents" ]] || {
  echo "agent_footprint: only $healthy of $n_agents agents became healthy" >&2
  tail -n 5 "$work"/agent-*.log >&2; exit 1; }

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, after "(comm)"
now_ns() { date +%s%N; }

names=("${agent_names[@]}" "controller" "redis-server")
measured=("${agent_pids[@]}" "$controller_pid" "$redis_pid")
declare -A start_ticks
for pid in "${measured[@]}"; do start_ticks[$pid]=$(cpu_ticks "$pid"); done
t0=$(now_ns)
echo "measuring $duration s (agents: $n_agents, report interval 1s, probe period 1s) ..." >&2
sleep "$duration"
t1=$(now_ns)

status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
rollup_kb() { awk -v k="$2:" '$1 == k {s += $2} END {print s + 0}' "/proc/$1/smaps_rollup"; }
mb() { awk -v kb="$1" 'BEGIN {printf "%.1f", kb / 1024}'; }

printf '\n%-42s %8s %8s %8s %8s %8s %7s\n' process "RSS MB" "HWM MB" "PSS MB" "USS MB" threads "CPU %"
misses=0
for i in "${!measured[@]}"; do
  pid=${measured[$i]}
  kill -0 "$pid" 2>/dev/null || { echo "agent_footprint: ${names[$i]} died; see its log" >&2; exit 1; }
  rss=$(status_kb "$pid" VmRSS); hwm=$(status_kb "$pid" VmHWM); threads=$(status_kb "$pid" Threads)
  pss=$(rollup_kb "$pid" Pss)
  uss=$(($(rollup_kb "$pid" Private_Clean) + $(rollup_kb "$pid" Private_Dirty)))
  cpu=$(awk -v d="$(($(cpu_ticks "$pid") - start_ticks[$pid]))" -v hz="$ticks" \
    -v ns="$((t1 - t0))" 'BEGIN {printf "%.2f", 100 * d / hz / (ns / 1e9)}')
  mark=""
  if [[ "${names[$i]}" == agent* ]]; then
    if [[ "$rss" -gt "$target_rss_kb" ]] || awk -v c="$cpu" -v t="$target_cpu_pct" 'BEGIN {exit !(c > t)}'; then
      mark="  over target"; misses=$((misses + 1))
    fi
  fi
  printf '%-42s %8s %8s %8s %8s %8s %7s%s\n' "${names[$i]}" "$(mb "$rss")" "$(mb "$hwm")" \
    "$(mb "$pss")" "$(mb "$uss")" "$threads" "$cpu" "$mark"
done
cat <<EOF

Targets per agent: RSS <= $(mb "$target_rss_kb") MB, CPU <= $target_cpu_pct% of one core (for scale:
Patroni ~61 MB per node, each Redis Sentinel ~12 MB). CPU % = (utime + stime) delta over
$duration s of wall time, of one core. RSS counts shared library pages in full; PSS splits
pages shared with the other processes here, USS counts only the process's own.
Agents over target: $misses of $n_agents.
EOF
