#!/usr/bin/python3
"""Metric names used by the alert rules and the Grafana dashboard, checked against the names the
binaries export.

  promql_names.py --exported FILE [--pending FILE] RULES.yml... DASHBOARD.json...

--exported: a file of exported names, one per line (from live /metrics # TYPE lines, with the
histogram families' _bucket/_count/_sum; see check_metric_names.sh). --pending: names agreed to be
added (deploy/prometheus/pending-metrics.txt), accepted but listed. Prometheus' own `up` is
always there. Exits 1 naming every expression that uses an unknown name.
"""
import argparse
import json
import re
import sys

import yaml

FUNCS_AND_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
                   "unless", "offset", "inf", "nan"}


def names_in(expr):
    e = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)           # string literals
    e = re.sub(r"\$\{?\w+\}?", "", e)                       # Grafana variables
    e = re.sub(r"\{[^}]*\}", "", e)                          # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                         # range selectors
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    out = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        word = m.group(0)
        rest = e[m.end():].lstrip()
        if rest.startswith("("):
            continue  # a function or aggregation
        if word.lower() in FUNCS_AND_WORDS or re.fullmatch(r"\d+\w*", word):
            continue
        out.add(word)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exported", required=True)
    ap.add_argument("--pending")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    exported = {l.strip() for l in open(a.exported) if l.strip()} | {"up"}
    pending = set()
    if a.pending:
        pending = {l.split("#")[0].strip() for l in open(a.pending)} - {""}
    exprs = []
    for f in a.files:
        if f.endswith(".json"):
            def walk(node, where):
                if isinstance(node, dict):
                    if "expr" in node and isinstance(node["expr"], str):
                        exprs.append((f"{f}: {where}", node["expr"]))
                    if node.get("type") == "query" and isinstance(node.get("query"), dict):
                        exprs.append((f"{f}: variable {node.get('name')}", node["query"]["query"].replace("label_values(", "").split(",")[0]))
                    for k, v in node.items():
                        walk(v, node.get("title", where) if k != "title" else where)
                elif isinstance(node, list):
                    for v in node:
                        walk(v, where)
            walk(json.load(open(f)), "")
        else:
            for g in yaml.safe_load(open(f))["groups"]:
                for r in g["rules"]:
                    exprs.append((f"{f}: {r.get('alert') or r.get('record')}", r["expr"]))
    bad, used_pending, used = [], set(), set()
    for where, expr in exprs:
        for n in names_in(expr):
            used.add(n)
            if n in exported:
                continue
            if n in pending:
                used_pending.add(n)
                continue
            bad.append(f"{where}: '{n}' is not exported by noa-controller or noa-agent (in: {expr})")
    for b in bad:
        print("FAIL", b)
    print(f"metric names: {len(exprs)} expressions use {len(used)} names; {len(used & exported)} exported, "
          f"{len(used_pending)} only pending: {' '.join(sorted(used_pending)) or '-'}")
    if not exprs:
        print("FAIL no expressions found"); sys.exit(1)
    sys.exit(1 if bad else 0)


main()
