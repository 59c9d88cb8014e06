#!/usr/bin/env bash
# deploy/prometheus: promtool check config (both Compose configs, their rule files included),
# promtool check rules, promtool test rules (the alerts' unit tests). Debian package prometheus.
source "$(dirname "$0")/lib.sh"
PROMTOOL=${PROMTOOL:-/usr/bin/promtool}
[[ -x $PROMTOOL ]] || missing "$PROMTOOL" "apt-get install prometheus"
cd "$DEPLOY/prometheus"
for cfg in prometheus.yml prometheus-staging.yml; do
  "$PROMTOOL" check config "$cfg" || fail "promtool check config $cfg"
done
"$PROMTOOL" check rules rules/*.yml || fail "promtool check rules"
"$PROMTOOL" test rules tests/*.test.yml || fail "promtool test rules"
# Every alert has a unit test that expects it to fire.
for alert in $(grep -ho 'alert: [A-Za-z]*' rules/*.yml | awk '{print $2}'); do
  grep -q "alertname: $alert\$" tests/*.test.yml || fail "alert $alert has no promtool unit test"
  awk -v a="$alert" '$0 ~ "alertname: "a"$" {f=1; next} f && /exp_alerts: \[\]/ {f=0} f && /exp_labels/ {found=1; exit} END {exit !found}' tests/*.test.yml ||
    fail "alert $alert: no unit test expects it to fire"
done
# The Compose configs scrape exactly the agents of their stacks (checked against the Compose files
# in check_compose.sh); here: every agent target has agent and service labels.
for cfg in prometheus.yml prometheus-staging.yml; do
  n_targets=$(grep -c 'targets: \[".*:7711"\]' "$cfg")
  n_labels=$(grep -c 'labels: {agent: .*, service: .*}' "$cfg")
  [[ $n_targets -gt 0 && $n_targets == "$n_labels" ]] || fail "$cfg: $n_targets agent targets, $n_labels with agent/service labels"
done
ok "promtool check config, check rules, test rules"
