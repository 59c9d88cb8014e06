#!/usr/bin/python3
"""Runs the real binaries' --check-config with the environment each deploy file gives them.

  container_env_check.py --controller BIN --agent BIN --work DIR --policy FILE k8s OBJECTS.json
  container_env_check.py --controller BIN --agent BIN --work DIR --policy FILE compose CONFIG.yaml

For every noa-agent and noa-controller container (Kubernetes pod templates, or Compose services
as `docker-compose config` prints them) it
  - checks that every NOA_* variable names a flag the binary has (--help; unknown NOA_* variables
    are silently ignored by the binaries, so a typo would go unnoticed),
  - checks that every file or directory a NOA_*_FILE / NOA_*_DIR variable names lies on a volume
    mounted into that container (or its tmpfs),
  - runs BIN --check-config with that environment, with those paths pointed at real test files
    (a controller key pair, tokens, allowlist; the policy file is the deploy's own), and requires
    "config ok".
"""
import argparse
import json
import os
import re
import subprocess
import sys

import yaml

problems = []


def flags_of(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    return set(re.findall(r"--([a-z][a-z0-9-]*)", out))


def expand(value, env):
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), value)


def under(path, mounts):
    return any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounts)


def check(where, binary, flags, env, mounts, fixtures):
    for name in env:
        if name.startswith("NOA_"):
            flag = name[4:].lower().replace("_", "-")
            if flag not in flags:
                problems.append(f"{where}: {name} is no flag of {os.path.basename(binary)} (--{flag})")
    run_env = {"PATH": "/usr/bin:/bin"}
    for name, value in env.items():
        if (name.endswith("_FILE") or name.endswith("_DIR")) and name.startswith("NOA_") and value:
            if not under(value, mounts):
                problems.append(f"{where}: {name}={value} is on no volume mounted into the container")
        run_env[name] = value
    run_env.update(fixtures)
    # a conninfo with the password expanded from a Secret: keep it, check-config only parses it
    r = subprocess.run([binary, "--check-config"], env=run_env, capture_output=True, text=True)
    if r.returncode != 0 or "config ok" not in r.stdout:
        problems.append(f"{where}: {os.path.basename(binary)} --check-config refused it: {r.stderr.strip() or r.stdout[-300:]}")
    return r


def fixtures_for(kind, args, env):
    w = args.work
    f = {}
    if kind == "agent":
        f["NOA_CONTROLLER_PUBLIC_KEY_FILE"] = f"{w}/keys/controller.pub"
        f["NOA_STATE_DIR"] = f"{w}/agent-state"
        for name in ("NOA_BACKUP_DIR", "NOA_SNAPSHOT_DIR", "NOA_MODELS_DIR", "NOA_LOCK_DIR", "NOA_PG_DATA_DIR"):
            if name in env:
                f[name] = f"{w}/{name.lower()}"
        if "NOA_REDIS_PASSWORD_FILE" in env:
            f["NOA_REDIS_PASSWORD_FILE"] = f"{w}/redis-password"
        if "NOA_SERVICE_PIDFILE" in env:
            f["NOA_SERVICE_PIDFILE"] = f"{w}/service.pid"
        # the projected service account token and CA (--k8s-pod-label): any readable file
        for name in ("NOA_K8S_TOKEN_FILE", "NOA_K8S_CA_FILE"):
            if name in env:
                f[name] = f"{w}/redis-password"
    else:
        f["NOA_DATA_DIR"] = f"{w}/controller-data"
        f["NOA_KEY_DIR"] = f"{w}/keys"
        if "NOA_ALLOWLIST_FILE" in env:
            f["NOA_ALLOWLIST_FILE"] = f"{w}/allowlist"
        if "NOA_API_TOKENS_FILE" in env:
            f["NOA_API_TOKENS_FILE"] = f"{w}/api-tokens"
        if "NOA_POLICY_FILE" in env:
            f["NOA_POLICY_FILE"] = args.policy
    return f


def prepare(args):
    os.makedirs(args.work, exist_ok=True)
    if not os.path.exists(f"{args.work}/keys/controller.key"):
        subprocess.run([args.controller, "keygen", "--key-dir", f"{args.work}/keys"], check=True, capture_output=True)
        subprocess.run([args.controller, "token", "new", "--name", "t", "--role", "admin", "--tokens-file",
                        f"{args.work}/api-tokens"], check=True, capture_output=True)
        open(f"{args.work}/allowlist", "w").close()
        with open(f"{args.work}/redis-password", "w") as fh:
            fh.write("secret")
        with open(f"{args.work}/service.pid", "w") as fh:
            fh.write("1\n")


def k8s(args, agent_flags, ctl_flags):
    objects = json.load(open(args.input))
    configmaps = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}
    seen = {"agent": 0, "controller": 0}
    for o in objects:
        if o["kind"] not in ("StatefulSet", "Deployment"):
            continue
        spec = o["spec"]["template"]["spec"]
        for c in spec.get("containers", []):
            kind = "agent" if c["name"] == "noa-agent" else "controller" if c["name"] == "noa-controller" else None
            if not kind:
                continue
            seen[kind] += 1
            env = {}
            for ef in c.get("envFrom", []):
                env.update(configmaps.get(ef.get("configMapRef", {}).get("name"), {}))
            for e in c.get("env", []):
                if "value" in e:
                    env[e["name"]] = expand(e["value"], env)
                elif "fieldRef" in e.get("valueFrom", {}):
                    path = e["valueFrom"]["fieldRef"]["fieldPath"]
                    env[e["name"]] = {"metadata.name": o["metadata"]["name"] + "-0", "spec.nodeName": "node-1"}.get(path, "x")
                else:
                    env[e["name"]] = "from-a-secret"
            mounts = [m["mountPath"] for m in c.get("volumeMounts", [])]
            binary, flags = (args.agent, agent_flags) if kind == "agent" else (args.controller, ctl_flags)
            check(f"{o['kind']}/{o['metadata']['name']} container {c['name']}", binary, flags, env, mounts,
                  fixtures_for(kind, args, env))
    return seen


def compose(args, agent_flags, ctl_flags):
    config = yaml.safe_load(open(args.input))
    seen = {"agent": 0, "controller": 0}
    for name, svc in config["services"].items():
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(x.split("=", 1) for x in env)
        env = {k: "" if v is None else str(v) for k, v in env.items()}
        if "setup" in (svc.get("profiles") or []):
            continue
        kind = "agent" if "NOA_AGENT_ID" in env else "controller" if "NOA_CONTROLLER_ID" in env else None
        if not kind:
            continue
        seen[kind] += 1
        mounts = []
        for v in svc.get("volumes", []):
            mounts.append(v["target"] if isinstance(v, dict) else v.split(":")[1])
        mounts += [t.split(":")[0] for t in svc.get("tmpfs", [])]
        binary, flags = (args.agent, agent_flags) if kind == "agent" else (args.controller, ctl_flags)
        check(f"compose service {name}", binary, flags, env, mounts, fixtures_for(kind, args, env))
    return seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--controller", required=True)
    ap.add_argument("--agent", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--policy", required=True)
    ap.add_argument("mode", choices=["k8s", "compose"])
    ap.add_argument("input")
    args = ap.parse_args()
    prepare(args)
    agent_flags, ctl_flags = flags_of(args.agent), flags_of(args.controller)
    seen = (k8s if args.mode == "k8s" else compose)(args, agent_flags, ctl_flags)
    if seen["controller"] != 1:
        problems.append(f"expected one controller container, found {seen['controller']}")
    if seen["agent"] < 7:
        problems.append(f"expected an agent beside each of the seed's 7 services, found {seen['agent']}")
    for p in problems:
        print("FAIL", p)
    print(f"container env: {seen['agent']} agents, {seen['controller']} controller, {len(problems)} problems")
    sys.exit(1 if problems else 0)


main()
