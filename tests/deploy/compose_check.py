#!/usr/bin/python3
"""Shape of a rendered Compose stack (`docker-compose config` output).

  compose_check.py --env dev|staging --prometheus PROM.yml --agent-ids "ID ..." CONFIG.yaml
"""
import argparse
import sys

import yaml

SEED = {"mcp": 8001, "claude-flow": 9100, "ui-dashboard": 9200, "llama-cpp": 9300, "agenticos": 9400,
        "postgres": 5432, "redis": 6379}
# seed table: cpu limit, memory limit, memory request
LIMITS = {"mcp": (1.0, "512m", "256m"), "claude-flow": (2.0, "1g", "512m"), "ui-dashboard": (1.5, "768m", "384m"),
          "llama-cpp": (4.0, "4g", "2g"), "agenticos": (2.0, "1g", "512m"), "postgres": (1.0, "512m", "256m"),
          "redis": (0.5, "256m", "128m")}
problems = []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--env", required=True)
    ap.add_argument("--prometheus", required=True)
    ap.add_argument("--agent-ids", required=True)
    ap.add_argument("config")
    a = ap.parse_args()
    services = yaml.safe_load(open(a.config))["services"]
    run = {n: s for n, s in services.items() if "setup" not in (s.get("profiles") or [])}
    agents = {n: s for n, s in run.items() if "NOA_AGENT_ID" in (s.get("environment") or {})}
    apps = {n: s for n, s in run.items() if n not in agents}
    for n in list(SEED) + ["noa-controller", "prometheus", "grafana"]:
        if n not in run:
            problems.append(f"service {n} missing")
    # an agent beside every service of the seed (and every replica of one)
    beside = {}
    for n, s in agents.items():
        nm, pid = s.get("network_mode", ""), s.get("pid", "")
        if not nm.startswith("service:") or pid != nm:
            problems.append(f"{n}: must share its service's network and PID namespaces (network_mode/pid service:X)")
            continue
        beside.setdefault(nm.split(":", 1)[1], []).append(n)
    for n, s in apps.items():
        image = s.get("image", "")
        is_seed = any(image.startswith(p) for p in ("postgres:", "redis:")) or n.split("-2")[0].replace("-replica", "") in SEED
        if n in SEED or (is_seed and n not in ("noa-controller", "prometheus", "grafana", "nginx")):
            if len(beside.get(n, [])) != 1:
                problems.append(f"service {n} has {len(beside.get(n, []))} agents beside it, want 1")
            env = agents[beside[n][0]]["environment"] if beside.get(n) else {}
            base = n.replace("-replica", "").removesuffix("-2")
            if env and (env.get("NOA_SERVICE") != base or env.get("NOA_SERVICE_PORT") != str(SEED.get(base))):
                problems.append(f"agent beside {n}: NOA_SERVICE/NOA_SERVICE_PORT {env.get('NOA_SERVICE')}/{env.get('NOA_SERVICE_PORT')}, want {base}/{SEED.get(base)}")
    ids = sorted(s["environment"]["NOA_AGENT_ID"] for s in agents.values())
    if len(set(ids)) != len(ids):
        problems.append(f"agent ids not unique: {ids}")
    if sorted(a.agent_ids.split()) != ids:
        problems.append(f"setup enrolls {sorted(a.agent_ids.split())} but the stack runs agents {ids}")
    for n, s in run.items():
        if s.get("read_only") is not True:
            problems.append(f"{n}: read_only must be true")
        if "ALL" not in (s.get("cap_drop") or []):
            problems.append(f"{n}: cap_drop must include ALL")
        if "no-new-privileges:true" not in (s.get("security_opt") or []):
            problems.append(f"{n}: security_opt no-new-privileges:true missing")
        if not s.get("healthcheck"):
            problems.append(f"{n}: no healthcheck")
        if a.env == "staging":
            if "cpus" not in s or "mem_limit" not in s:
                problems.append(f"{n}: staging needs cpus and mem_limit")
            base = n.replace("-replica", "").removesuffix("-2")
            if base in LIMITS and (float(s.get("cpus", 0)), s.get("mem_limit"), s.get("mem_reservation")) != LIMITS[base]:
                problems.append(f"{n}: limits {s.get('cpus')}/{s.get('mem_limit')}/{s.get('mem_reservation')} differ from the seed's {LIMITS[base]}")
            if n != "nginx" and s.get("ports"):
                problems.append(f"{n}: staging publishes ports only on nginx, not {s['ports']}")
    ctl = run.get("noa-controller", {})
    if not any((v.get("target") if isinstance(v, dict) else v.split(":")[1]) == "/var/lib/noa-controller" for v in ctl.get("volumes", [])):
        problems.append("noa-controller: no volume at /var/lib/noa-controller (its RocksDB)")
    if a.env == "staging":
        ng = run.get("nginx")
        if not ng or not any("443" in str(p) for p in ng.get("ports", [])):
            problems.append("staging: nginx with TLS on 443 missing")
        for crit in ("postgres", "redis", "mcp", "claude-flow"):
            n_rep = sum(1 for n in apps if n.replace("-replica", "").removesuffix("-2") == crit)
            if n_rep < 2:
                problems.append(f"staging: {crit} has {n_rep} replicas, want 2")
    # Prometheus scrapes exactly these agents, at their service's address
    prom = yaml.safe_load(open(a.prometheus))
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    want = sorted((s["environment"]["NOA_AGENT_ID"], s["environment"]["NOA_SERVICE"], s["network_mode"].split(":", 1)[1] + ":7711")
                  for s in agents.values())
    got = sorted((sc["labels"]["agent"], sc["labels"]["service"], t) for sc in jobs["noa-agents"]["static_configs"] for t in sc["targets"])
    if want != got:
        problems.append(f"{a.prometheus}: agent targets {got} != the stack's agents {want}")
    if jobs["noa-controller"]["static_configs"][0]["targets"] != ["noa-controller:7700"]:
        problems.append("prometheus: controller target must be noa-controller:7700")
    for p in problems:
        print("FAIL", p)
    print(f"compose ({a.env}): {len(run)} services, {len(agents)} agents, {len(problems)} problems")
    sys.exit(1 if problems else 0)


main()
