#!/usr/bin/env bash
# Every metric name in the alert rules (deploy/prometheus/rules) and the Grafana dashboard
# (deploy/grafana/dashboards) must be exported by the binaries: a real noa-controller and a real
# noa-agent are started from the build tree, their live /metrics are read (# TYPE lines, plus the
# _bucket/_count/_sum series of histograms) and joined with the names the sources register
# (families that appear only after their first event, e.g. noa_ingest_rejected_total). Names in
# deploy/prometheus/pending-metrics.txt are accepted and listed. The controller runs with a small
# policy for the agent's service, so that the per-service backup and autoscale gauges are live.
# Also checks the images' HEALTHCHECK helper (deploy/docker/noa-healthcheck) against both live
# health endpoints.
#   check_metric_names.sh NOA_CONTROLLER_BIN NOA_AGENT_BIN
source "$(dirname "$0")/lib.sh"
CTL=${1:?noa-controller binary}; AGENT=${2:?noa-agent binary}
require_bin "$CTL"; require_bin "$AGENT"
require_cmd curl "apt-get install curl"
require_py_module yaml "apt-get install python3-yaml"
HERE=$(cd "$(dirname "$0")" && pwd)
read -r API ZMQ AGENT_HTTP < <("$PY" -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
# A policy for the agent's service, so that the per-service backup, drill and autoscale gauges
# have a series (a family without one is not in the exposition). Its schedules fire at 03:00 and
# on Sundays at 04:00 only, and actuator `none` changes nothing.
cat >"$WORK/policy.yaml" <<'YAML'
services:
  web:
    backups:
      - {name: nightly, kind: pg_dump, schedule: "0 3 * * *", retention: {max_age: 7d, min_count: 1}}
    rpo_target: 1d
    drill: {schedule: "0 4 * * 0", rto_target: 1h}
    autoscale:
      min_replicas: 1
      max_replicas: 3
      metrics:
        - cpu: {utilization: 50}
YAML
"$CTL" --data-dir "$WORK/ctl" --listen "tcp://127.0.0.1:$ZMQ" --api-listen "127.0.0.1:$API" \
  --api-auth none --insecure-plaintext --report-interval 200ms --policy-file "$WORK/policy.yaml" \
  >"$WORK/ctl.log" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 100; i++)); do curl -fsS "127.0.0.1:$API/v1/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "127.0.0.1:$API/v1/health" >/dev/null || { cat "$WORK/ctl.log" >&2; fail "the controller did not come up"; }
# The agent watches the controller's REST port as its "service" and scrapes its /metrics.
"$AGENT" --agent-id deploy-test-1 --service web --kind tcp --service-port "$API" \
  --controller "tcp://127.0.0.1:$ZMQ" --insecure-plaintext --http-listen "127.0.0.1:$AGENT_HTTP" \
  --state-dir "$WORK/agent" --service-pid "${PIDS[0]}" --report-interval 200ms \
  --metrics-url "http://127.0.0.1:$API/metrics" --metrics-allow 'noa_ingest_*' >"$WORK/agent.log" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 100; i++)); do curl -fsS "127.0.0.1:$AGENT_HTTP/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "127.0.0.1:$AGENT_HTTP/health/ready" >/dev/null || { cat "$WORK/agent.log" >&2; fail "the agent did not register"; }
sleep 1   # a few reports, so the per-service gauges exist
curl -s "127.0.0.1:$API/v1/no-such-route" >/dev/null || true   # noa_api_rejected_total
curl -fsS "127.0.0.1:$API/metrics" >"$WORK/controller.metrics"
curl -fsS "127.0.0.1:$AGENT_HTTP/metrics" >"$WORK/agent.metrics"

HC=$DEPLOY/docker/noa-healthcheck
"$HC" "$API" /v1/health || fail "noa-healthcheck $API /v1/health (controller) did not succeed"
"$HC" "$AGENT_HTTP" /health || fail "noa-healthcheck $AGENT_HTTP /health (agent) did not succeed"
! "$HC" "$API" /no-such-path 2>/dev/null || fail "noa-healthcheck succeeded on a 404"
ok "the images' HEALTHCHECK helper answers on both binaries' health endpoints"

{
  cat "$WORK/controller.metrics" "$WORK/agent.metrics" | awk '$1 == "#" && $2 == "TYPE" {print $3; if ($4 == "histogram") {print $3 "_bucket"; print $3 "_count"; print $3 "_sum"}}'
} | sort -u >"$WORK/live.txt"
[[ $(wc -l <"$WORK/live.txt") -gt 20 ]] || fail "too few live metric names: $(cat "$WORK/live.txt")"
# The gauges the policy above gives a series must be live, not only named in the sources
# (noa_backup_newest_age_seconds and the drill results need a real backup and drill: unit-tested).
for name in noa_backup_rpo_ok noa_backup_rpo_target_seconds noa_drill_rto_target_seconds \
  noa_autoscale_able_to_scale noa_autoscale_desired_replicas; do
  grep -qx "$name" "$WORK/live.txt" || fail "$name is not in the controller's live /metrics"
done
# Families registered in the sources (created at their first event).
grep -rhoE '"noa_[a-z0-9_]+"' "$ROOT/controller" "$ROOT/agent" "$ROOT/common" --include=*.cc --include=*.h |
  tr -d '"' | sort -u >"$WORK/sources.txt"
sort -u "$WORK/live.txt" "$WORK/sources.txt" >"$WORK/exported.txt"
echo "$DEPLOY_TEST: $(wc -l <"$WORK/live.txt") names live, $(comm -13 "$WORK/live.txt" "$WORK/sources.txt" | wc -l) more from the sources"
"$PY" "$HERE/promql_names.py" --exported "$WORK/exported.txt" --pending "$DEPLOY/prometheus/pending-metrics.txt" \
  "$DEPLOY"/prometheus/rules/*.yml "$DEPLOY"/grafana/dashboards/*.json || fail "unknown metric names"
# Pending names that are exported by now should leave the pending list.
while read -r name _; do
  [[ -z $name || $name == \#* ]] && continue
  grep -qx "$name" "$WORK/exported.txt" && echo "$DEPLOY_TEST: note: $name is registered now; it can leave pending-metrics.txt"
done <"$DEPLOY/prometheus/pending-metrics.txt"
ok "every metric name in the rules and the dashboard is exported (or listed as pending)"
