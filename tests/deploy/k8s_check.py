#!/usr/bin/python3
"""Checks rendered Kubernetes manifests (deploy/k8s overlays) beyond the OpenAPI schemas.

  k8s_check.py --overlay DIR RENDERED.yaml [--json-out FILE]

1. Unknown fields: every key of every object must be a field of its type in the Kubernetes API,
   walked with the python3-kubernetes models (Debian 12: 22.6, Kubernetes 1.22 API). The OpenAPI
   schemas allow unknown fields, so `readinesProbe:` would otherwise pass.
2. Pod Security "restricted" for every pod template, resources on every container, the agent
   sidecar's probes on its own /health*, the namespace's enforce label.
3. References: ConfigMaps, Secrets, ServiceAccounts, PVC templates named by pods exist; every
   Service selects some pod template.
4. RBAC: the controller's Role allows exactly the scale subresource and pod label patches.
5. Replicas and the autoscaler's max_replicas fit the agent ids enrolled (agent-ids.txt).
--json-out writes the objects as a JSON array for the schema validator.
"""
import argparse
import json
import re
import sys

import yaml

try:
    import kubernetes.client as kc
except ImportError:
    print("k8s_check.py: needs Debian's python3-kubernetes (apt-get install python3-kubernetes)")
    sys.exit(2)

errors = []


def err(obj, msg):
    errors.append(f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}: {msg}")


# ---- 1. unknown fields
def model_class(api_version, kind):
    version = api_version.split("/")[-1]
    return getattr(kc, version[0].upper() + version[1:] + kind, None)


def walk(value, type_name, path, obj):
    if value is None:
        return
    m = re.fullmatch(r"list\[(.+)\]", type_name)
    if m:
        if not isinstance(value, list):
            err(obj, f"{path}: expected a list")
            return
        for i, item in enumerate(value):
            walk(item, m.group(1), f"{path}[{i}]", obj)
        return
    m = re.fullmatch(r"dict\(str, (.+)\)", type_name)
    if m:
        if not isinstance(value, dict):
            err(obj, f"{path}: expected a map")
            return
        for k, item in value.items():
            walk(item, m.group(1), f"{path}.{k}", obj)
        return
    cls = getattr(kc, type_name, None)
    if cls is None or not hasattr(cls, "openapi_types"):
        return  # str, int, bool, object (quantities, int-or-string), datetime
    if not isinstance(value, dict):
        err(obj, f"{path}: expected an object of type {type_name}")
        return
    by_json = {cls.attribute_map[a]: t for a, t in cls.openapi_types.items()}
    for key, item in value.items():
        if key not in by_json:
            err(obj, f"{path}.{key}: unknown field of {type_name}")
        else:
            walk(item, by_json[key], f"{path}.{key}", obj)


# ---- 2. pod security and probes
ALLOWED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                   "projected", "secret", "name"}


def check_pod(obj, spec, labels):
    psc = spec.get("securityContext", {})
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag):
            err(obj, f"{flag} is not allowed (restricted)")
    for v in spec.get("volumes", []):
        extra = set(v) - ALLOWED_VOLUMES
        if extra:
            err(obj, f"volume {v['name']}: type {sorted(extra)} not allowed (restricted)")
    containers = spec.get("initContainers", []) + spec.get("containers", [])
    for c in containers:
        sc = c.get("securityContext", {})
        where = f"container {c['name']}"
        if not (sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True):
            err(obj, f"{where}: runAsNonRoot must be true (restricted)")
        if sc.get("runAsUser", psc.get("runAsUser")) == 0:
            err(obj, f"{where}: runAsUser 0 (restricted)")
        seccomp = sc.get("seccompProfile", psc.get("seccompProfile", {})).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            err(obj, f"{where}: seccompProfile must be RuntimeDefault or Localhost (restricted)")
        if sc.get("allowPrivilegeEscalation") is not False:
            err(obj, f"{where}: allowPrivilegeEscalation must be false (restricted)")
        if sc.get("privileged"):
            err(obj, f"{where}: privileged (restricted)")
        caps = sc.get("capabilities", {})
        if "ALL" not in caps.get("drop", []):
            err(obj, f"{where}: capabilities must drop ALL (restricted)")
        if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            err(obj, f"{where}: capabilities.add beyond NET_BIND_SERVICE (restricted)")
        if sc.get("readOnlyRootFilesystem") is not True:
            err(obj, f"{where}: readOnlyRootFilesystem must be true (seed: read-only root)")
        res = c.get("resources", {})
        for kind in ("requests", "limits"):
            for r in ("cpu", "memory"):
                if r not in res.get(kind, {}):
                    err(obj, f"{where}: resources.{kind}.{r} missing")
        if c["name"] == "noa-agent":
            if labels.get("noa.dev/agent") != "true":
                err(obj, "has a noa-agent sidecar but not the pod label noa.dev/agent=true (NetworkPolicies, scraping)")
            for probe, path in (("startupProbe", "/health/startup"), ("livenessProbe", "/health"),
                                ("readinessProbe", "/health")):
                got = c.get(probe, {}).get("httpGet", {})
                if got.get("path") != path or got.get("port") != "noa-agent":
                    err(obj, f"{where}: {probe} must be GET {path} on port noa-agent, not {got}")
            names = {e["name"] for e in c.get("env", [])}
            for need in ("NOA_AGENT_ID", "NOA_SERVICE", "NOA_KIND", "NOA_CONTROLLER",
                         "NOA_CONTROLLER_PUBLIC_KEY_FILE", "NOA_STATE_DIR", "NOA_HTTP_LISTEN"):
                if need not in names:
                    err(obj, f"{where}: env {need} missing")


def pod_templates(obj):
    if obj["kind"] in ("StatefulSet", "Deployment", "DaemonSet", "ReplicaSet", "Job"):
        yield obj["spec"]["template"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rendered")
    ap.add_argument("--overlay", required=True)
    ap.add_argument("--seed-resources", action="store_true",
                    help="also require the seed's per-service resources on the service containers")
    ap.add_argument("--json-out")
    args = ap.parse_args()
    docs = [d for d in yaml.safe_load_all(open(args.rendered)) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d

    for d in docs:
        cls = model_class(d["apiVersion"], d["kind"])
        if cls is None:
            err(d, f"no python3-kubernetes model for {d['apiVersion']} {d['kind']}")
        else:
            walk(d, cls.__name__, "", d)

    ns = list(by_kind.get("Namespace", {}).values())
    if len(ns) != 1:
        errors.append(f"expected exactly one Namespace, found {len(ns)}")
    else:
        labels = ns[0]["metadata"].get("labels", {})
        if labels.get("pod-security.kubernetes.io/enforce") != "restricted":
            err(ns[0], "label pod-security.kubernetes.io/enforce must be restricted")
        for d in docs:
            if d["kind"] not in ("Namespace",) and d["metadata"].get("namespace") != ns[0]["metadata"]["name"]:
                err(d, f"namespace {d['metadata'].get('namespace')} is not {ns[0]['metadata']['name']}")

    configmaps = set(by_kind.get("ConfigMap", {}))
    secrets = set(by_kind.get("Secret", {}))
    accounts = set(by_kind.get("ServiceAccount", {})) | {"default"}
    templates = []
    for d in docs:
        for t in pod_templates(d):
            labels = t.get("metadata", {}).get("labels", {})
            templates.append(labels)
            spec = t["spec"]
            check_pod(d, spec, labels)
            if spec.get("serviceAccountName", "default") not in accounts:
                err(d, f"serviceAccountName {spec['serviceAccountName']} does not exist")
            claims = {c["metadata"]["name"] for c in d["spec"].get("volumeClaimTemplates", [])}
            vols = {v["name"] for v in spec.get("volumes", [])} | claims
            for v in spec.get("volumes", []):
                if "configMap" in v and v["configMap"]["name"] not in configmaps:
                    err(d, f"volume {v['name']}: ConfigMap {v['configMap']['name']} does not exist")
                if "secret" in v and v["secret"]["secretName"] not in secrets:
                    err(d, f"volume {v['name']}: Secret {v['secret']['secretName']} does not exist")
            for c in spec.get("initContainers", []) + spec.get("containers", []):
                for m in c.get("volumeMounts", []):
                    if m["name"] not in vols:
                        err(d, f"container {c['name']}: mount of unknown volume {m['name']}")
                for ef in c.get("envFrom", []):
                    if "configMapRef" in ef and ef["configMapRef"]["name"] not in configmaps:
                        err(d, f"container {c['name']}: ConfigMap {ef['configMapRef']['name']} does not exist")
                for e in c.get("env", []):
                    ref = e.get("valueFrom", {}).get("secretKeyRef")
                    if ref and ref["name"] not in secrets:
                        err(d, f"container {c['name']}: Secret {ref['name']} does not exist")
                    elif ref and ref["key"] not in by_kind["Secret"][ref["name"]].get("data", {}):
                        err(d, f"container {c['name']}: Secret {ref['name']} has no key {ref['key']}")
    for svc in by_kind.get("Service", {}).values():
        sel = svc["spec"].get("selector", {})
        sel_without_role = {k: v for k, v in sel.items() if k != "noa.dev/role"}  # set by failover
        if not any(all(t.get(k) == v for k, v in sel_without_role.items()) for t in templates):
            err(svc, f"selector {sel} matches no pod template")

    # 4. RBAC, exactly
    role = by_kind.get("Role", {}).get("noa-controller")
    want = [{"apiGroups": ["apps"], "resources": ["statefulsets/scale", "deployments/scale"], "verbs": ["get", "patch"]},
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "patch"]}]
    if role is None:
        errors.append("Role noa-controller missing")
    elif role.get("rules") != want:
        err(role, f"rules must be exactly {want}, not {role.get('rules')}")
    if set(by_kind.get("ClusterRole", {})) or set(by_kind.get("ClusterRoleBinding", {})):
        errors.append("no cluster-wide RBAC expected")

    # NetworkPolicies: default deny and the REST API only from ingress/monitoring namespaces
    nps = by_kind.get("NetworkPolicy", {})
    dd = nps.get("default-deny")
    if not dd or dd["spec"].get("podSelector") != {} or sorted(dd["spec"].get("policyTypes", [])) != ["Egress", "Ingress"]:
        errors.append("NetworkPolicy default-deny (all pods, Ingress+Egress) missing")
    for np in nps.values():
        for rule in np["spec"].get("ingress", []):
            if any(p.get("port") == 7700 for p in rule.get("ports", [])):
                names = sorted(f.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name", "?")
                               for f in rule.get("from", []))
                if names != ["ingress-nginx", "monitoring"]:
                    err(np, f"REST port 7700 admitted from {names}, want only ingress-nginx and monitoring")

    # 5. replicas within the enrolled agent ids
    counts = {}
    for line in open(f"{args.overlay}/agent-ids.txt"):
        if line.strip() and not line.startswith("#"):
            s, n = line.split()
            counts[s] = int(n)
    for name, sts in by_kind.get("StatefulSet", {}).items():
        if name == "noa-controller":
            continue
        if name not in counts:
            err(sts, "no line in agent-ids.txt")
        elif sts["spec"].get("replicas", 1) > counts[name]:
            err(sts, f"replicas {sts['spec']['replicas']} > {counts[name]} enrolled agent ids")
    policy = yaml.safe_load(open(f"{args.overlay}/policy.yaml")) or {}
    for name, p in (policy.get("services") or {}).items():
        auto = (p or {}).get("autoscale")
        if auto and auto.get("max_replicas", 1) > counts.get(name, 0):
            errors.append(f"policy.yaml: {name} may autoscale to {auto['max_replicas']} > {counts.get(name, 0)} enrolled agent ids")

    if args.seed_resources:
        seed = {"mcp": ("250m", "1000m", "256Mi", "512Mi"), "claude-flow": ("500m", "2000m", "512Mi", "1Gi"),
                "ui-dashboard": ("250m", "1500m", "384Mi", "768Mi"), "llama-cpp": ("2000m", "4000m", "2Gi", "4Gi"),
                "agenticos": ("500m", "2000m", "512Mi", "1Gi"), "postgres": ("250m", "1000m", "256Mi", "512Mi"),
                "redis": ("100m", "500m", "128Mi", "256Mi")}
        for name, (cr, cl, mr, ml) in seed.items():
            sts = by_kind.get("StatefulSet", {}).get(name)
            if not sts:
                errors.append(f"StatefulSet {name} missing")
                continue
            c = [c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == name][0]
            got = c["resources"]
            want_r = {"requests": {"cpu": cr, "memory": mr}, "limits": {"cpu": cl, "memory": ml}}
            if got != want_r:
                err(sts, f"resources {got} differ from the seed's {want_r}")

    if args.json_out:
        json.dump(docs, open(args.json_out, "w"))
    for e in errors:
        print("FAIL", e)
    print(f"checks: {len(docs)} objects, {len(errors)} problems")
    sys.exit(1 if errors else 0)


main()
