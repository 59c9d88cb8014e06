#!/usr/bin/env bash
# CPU of a running process's threads, grouped by role, one line per window until it exits:
#   tests/bench/thread_cpu.sh PID [WINDOW_SECONDS]
# For noa-controller: "ingest" is the main thread (the ingest loop runs on it), "zmq-io" libzmq's
# I/O threads (TCP, CURVE), "rocksdb" its flush and compaction threads, "other" the rest (REST
# API, reconcile, failover). Percent of one core. Whole-process CPU moves ±15 % with the other
# tenants of a shared machine; the split between threads of one run is steadier.
set -euo pipefail
pid=${1:?usage: thread_cpu.sh PID [WINDOW_SECONDS]}
window=${2:-10}
ticks=$(getconf CLK_TCK)

# "tid role ticks" for every thread now.
snapshot() {
  local task tid stat rest name role
  for task in /proc/"$pid"/task/*; do
    tid=${task##*/}
    stat=$(cat "$task/stat" 2>/dev/null) || continue
    name=$(cat "$task/comm" 2>/dev/null) || continue
    rest=${stat##*) }  # fields after the command name, which may hold spaces
    read -r -a f <<<"$rest"
    if [[ $tid == "$pid" ]]; then role=ingest
    elif [[ $name == ZMQbg/IO* ]]; then role=zmq-io
    elif [[ $name == rocksdb* ]]; then role=rocksdb
    else role=other
    fi
    echo "$tid $role $((f[11] + f[12]))"
  done
}

echo "window_s ingest% zmq-io% rocksdb% other% total%"
before=$(snapshot)
while kill -0 "$pid" 2>/dev/null; do
  sleep "$window"
  after=$(snapshot) || break
  [[ -n $after ]] || break
  awk -v window="$window" -v ticks="$ticks" '
    NR == FNR { start[$1] = $3; next }
    { used[$2] += $3 - (($1 in start) ? start[$1] : 0) }
    END {
      scale = 100 / (window * ticks)
      total = 0
      for (r in used) total += used[r]
      printf "%s %.0f %.0f %.0f %.0f %.0f\n", window, used["ingest"] * scale, used["zmq-io"] * scale,
             used["rocksdb"] * scale, used["other"] * scale, total * scale
    }' <(echo "$before") <(echo "$after")
  before=$after
done
