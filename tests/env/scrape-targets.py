#!/usr/bin/env python3
"""Prometheus file_sd targets from the Kubernetes API, for a Prometheus without kubernetes_sd (Debian's build).

usage: scrape-targets.py --server URL --token-file FILE --ca-file FILE --out targets.json [--interval 1]

Mirrors config/monitoring and the prometheus.io annotations the operator puts on model servers: every running Pod
annotated prometheus.io/scrape=true (port from prometheus.io/port, else its first container port; path from
prometheus.io/path), and the operator's Pods (labels app.kubernetes.io/name=cd4ml,
app.kubernetes.io/component=operator; port "http", /metrics). Labels as Cd4ml.LocalCluster gives them: namespace,
pod, and each Pod label with non-alphanumerics replaced by "_". The file is replaced atomically, only on change.
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--ca-file", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=1.0)
    a = ap.parse_args()
    context = ssl.create_default_context(cafile=a.ca_file)
    with open(a.token_file) as f:
        token = f.read().strip()
    request = urllib.request.Request(a.server + "/api/v1/pods", headers={"Authorization": "Bearer " + token})
    last, failing = None, False
    while True:
        try:
            with urllib.request.urlopen(request, context=context, timeout=10) as response:
                body = json.dumps(targets(json.load(response)["items"]), indent=1)
            failing = False
            if body != last:
                tmp = a.out + ".tmp"
                with open(tmp, "w") as f:
                    f.write(body)
                os.replace(tmp, a.out)
                last = body
        except Exception as e:  # the apiserver restarting: one line per outage, then keep trying
            if not failing:
                print(f"listing pods failed: {e}", file=sys.stderr, flush=True)
            failing = True
        time.sleep(a.interval)


main()
