#!/usr/bin/env bash
# deploy/grafana: the dashboard is valid JSON with unique panel ids, non-overlapping panels, a
# PromQL expression in every target, the provisioned data source's uid and the rows the issue
# asks for; the provisioning files are valid YAML and point where the Compose stack mounts the
# dashboards. (Metric names: check_metric_names.sh.)
source "$(dirname "$0")/lib.sh"
require_py_module yaml "apt-get install python3-yaml"
"$PY" - "$DEPLOY/grafana" "$DEPLOY/compose/docker-compose.yml" <<'PY' || fail "grafana files"
import glob, json, os, sys, yaml
g, compose = sys.argv[1], sys.argv[2]
problems = []
ds = yaml.safe_load(open(f"{g}/provisioning/datasources/prometheus.yml"))["datasources"][0]
prov = yaml.safe_load(open(f"{g}/provisioning/dashboards/noa.yml"))["providers"][0]
mounts = yaml.safe_load(open(compose))["services"]["grafana"]["volumes"]
if not any(m.endswith(":" + prov["options"]["path"] + ":ro") and m.startswith("../grafana/dashboards") for m in mounts):
    problems.append(f"provisioning path {prov['options']['path']} is not where compose mounts ../grafana/dashboards")
files = glob.glob(f"{g}/dashboards/*.json")
if not files:
    problems.append("no dashboard")
for f in files:
    d = json.load(open(f))
    panels = d["panels"]
    ids = [p["id"] for p in panels]
    if len(ids) != len(set(ids)):
        problems.append(f"{f}: panel ids not unique")
    cells = {}
    for p in panels:
        gp = p["gridPos"]
        if gp["x"] + gp["w"] > 24:
            problems.append(f"{f}: panel {p['title']} wider than the grid")
        for x in range(gp["x"], gp["x"] + gp["w"]):
            for y in range(gp["y"], gp["y"] + gp["h"]):
                if (x, y) in cells:
                    problems.append(f"{f}: panels {cells[(x, y)]!r} and {p['title']!r} overlap"); break
                cells[(x, y)] = p["title"]
        if p["type"] != "row":
            if not p.get("targets") or not all(t.get("expr") for t in p["targets"]):
                problems.append(f"{f}: panel {p['title']} has a target without an expression")
    rows = [p["title"] for p in panels if p["type"] == "row"]
    for want in ("Fleet", "Service health", "Failovers", "Backups", "Autoscaling"):
        if not any(r.startswith(want) for r in rows):
            problems.append(f"{f}: no row '{want}...'")
    dsvar = [v for v in d["templating"]["list"] if v["type"] == "datasource"]
    if not dsvar or dsvar[0]["current"]["value"] != ds["uid"]:
        problems.append(f"{f}: the datasource variable does not default to the provisioned uid {ds['uid']}")
for p in problems:
    print("FAIL", p)
sys.exit(1 if problems else 0)
PY
ok "dashboard and provisioning"
