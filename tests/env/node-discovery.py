#!/usr/bin/env python3
"""What a cluster's service discovery gives, from the Kubernetes API, for the real node (tests/env/realnode.sh):
Prometheus targets (Debian's Prometheus has no kubernetes_sd) and cluster DNS records (for dnsmasq).

usage: node-discovery.py --server URL --token-file FILE --ca-file FILE --targets targets.json --hosts-dir DIR
                         [--interval 1]

Targets mirror config/monitoring and the prometheus.io annotations the operator puts on model servers: every running
Pod annotated prometheus.io/scrape=true (port from prometheus.io/port, else its first container port; path from
prometheus.io/path), and the operator's Pods (labels app.kubernetes.io/name=cd4ml,
app.kubernetes.io/component=operator; port "http", /metrics). Labels as Cd4ml.LocalCluster gives them: namespace,
pod, and each Pod label with non-alphanumerics replaced by "_".
DNS: NAME.NAMESPACE.svc.cluster.local -> ClusterIP for every Service with one, as a hosts file in --hosts-dir
(dnsmasq --hostsdir re-reads it on change). Files are replaced atomically, and only when they change.
"""
import argparse
import json
import os
import re
import ssl
import sys
import time
import urllib.request


def targets(pods):
    out = []
    for pod in pods:
        meta, spec, status = pod["metadata"], pod["spec"], pod.get("status", {})
        if status.get("phase") != "Running" or not status.get("podIP") or meta.get("deletionTimestamp"):
            continue
        annotations, labels = meta.get("annotations") or {}, meta.get("labels") or {}
        ports = [p for c in spec.get("containers", []) for p in c.get("ports") or []]
        path = "/metrics"
        if annotations.get("prometheus.io/scrape") == "true":
            port = annotations.get("prometheus.io/port") or (ports[0]["containerPort"] if ports else None)
            path = annotations.get("prometheus.io/path", path)
        elif labels.get("app.kubernetes.io/name") == "cd4ml" and labels.get("app.kubernetes.io/component") == "operator":
            port = next((p["containerPort"] for p in ports if p.get("name") == "http"), None)
        else:
            continue
        if port is None:
            continue
        target_labels = {"namespace": meta["namespace"], "pod": meta["name"], "__metrics_path__": path}
        for key, value in labels.items():
            target_labels[re.sub(r"[^a-zA-Z0-9_]", "_", key)] = value
        out.append({"targets": [f"{status['podIP']}:{port}"], "labels": target_labels})
    return sorted(out, key=lambda t: t["targets"][0])


def hosts(services):
    lines = []
    for service in services:
        meta, ip = service["metadata"], service["spec"].get("clusterIP")
        if ip and ip != "None":
            lines.append(f"{ip} {meta['name']}.{meta['namespace']}.svc.cluster.local")
    return "".join(line + "\n" for line in sorted(lines))


def replace(path, text, tmp_dir=None):
    # A hosts file's temporary copy is written outside dnsmasq's --hostsdir: dnsmasq reads every file there, and when
    # the copy is renamed away it flushes the names it read from it, which are the same names the real file holds.
    tmp = os.path.join(tmp_dir or os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--ca-file", required=True)
    ap.add_argument("--targets", required=True)
    ap.add_argument("--hosts-dir", required=True)
    ap.add_argument("--interval", type=float, default=1.0)
    a = ap.parse_args()
    context = ssl.create_default_context(cafile=a.ca_file)
    with open(a.token_file) as f:
        token = f.read().strip()

    def get(path):
        request = urllib.request.Request(a.server + path, headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return json.load(response)["items"]

    written, failing = {}, False
    while True:
        try:
            files = {a.targets: json.dumps(targets(get("/api/v1/pods")), indent=1),
                     os.path.join(a.hosts_dir, "services"): hosts(get("/api/v1/services"))}
            failing = False
            for path, text in files.items():
                if written.get(path) != text:
                    replace(path, text, os.path.dirname(a.hosts_dir.rstrip("/")) if path.startswith(a.hosts_dir) else None)
                    written[path] = text
        except Exception as e:  # the apiserver restarting: one line per outage, then keep trying
            if not failing:
                print(f"listing pods and services failed: {e}", file=sys.stderr, flush=True)
            failing = True
        time.sleep(a.interval)


main()
