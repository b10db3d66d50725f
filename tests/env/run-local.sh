#!/usr/bin/env bash
# `make run`: the operator against the current kubeconfig when a cluster answers; otherwise the demo on the real
# node (tests/env/realnode.sh: the operator installed from config/ as the project's image, with S3 and Prometheus);
# where the real node cannot run (not root, not Linux), the process-based local kubelet instead. CD4ML_NODE=local
# picks that one. Ctrl-C stops everything.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
CACHE="${CD4ML_CACHE:-$HOME/.cache/cd4ml}"
# shellcheck disable=SC1091
. "$CACHE/test-env.sh"
dotnet build operator/Cd4ml.Cli -c "${CONFIGURATION:-Debug}" -nologo -v q
cli=(dotnet "operator/Cd4ml.Cli/bin/${CONFIGURATION:-Debug}/net10.0/cd4ml.dll")

if [[ "${CD4ML_LOCAL:-}" != "1" ]] && kubectl cluster-info --request-timeout=5s >/dev/null 2>&1; then
  echo "run: using kubeconfig context '$(kubectl config current-context)'; installing the CRDs"
  kubectl apply -k crds
  exec "${cli[@]}" operator --no-leader-election --listen http://127.0.0.1:8080
fi

if [[ "${CD4ML_NODE:-}" != "local" ]] && missing=$(bash tests/env/realnode.sh check); then
  exec bash tests/env/run-realnode.sh
fi
if [[ "${CD4ML_NODE:-}" != "local" ]]; then
  echo "run: the real node cannot run here:"
  sed 's/^/  /' <<<"$missing"
  echo "run: falling back to the process-based local kubelet (Pods run as local processes, no containers)"
fi

echo "run: no cluster configured (or CD4ML_LOCAL=1): starting a local embedded cluster"
work="$CACHE/local"
rm -rf "$work" && mkdir -p "$work/s3"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
s3_port=$(free_port) prom_port=$(free_port) op_port=$(free_port)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$CD4ML_S3RVER" -d "$work/s3" -a 127.0.0.1 -p "$s3_port" --silent \
  --configure-bucket datasets --configure-bucket models > "$work/s3rver.log" 2>&1 &
pids+=($!)

echo '[]' > "$work/targets.json"
cat > "$work/prometheus.yml" <<YAML
global: { scrape_interval: 5s, evaluation_interval: 5s }
scrape_configs:
  - job_name: model-servers
    file_sd_configs: [{ files: ["$work/targets.json"], refresh_interval: 5s }]
YAML
"$CD4ML_PROMETHEUS" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" > "$work/prometheus.log" 2>&1 &
pids+=($!)

export KUBECONFIG="$work/kubeconfig"
"${cli[@]}" local --kubeconfig-out "$KUBECONFIG" --scrape-targets "$work/targets.json" \
  --prometheus "http://127.0.0.1:$prom_port" --listen "http://127.0.0.1:$op_port" &
local_pid=$!
pids+=($local_pid)
until [[ -f "$KUBECONFIG" ]]; do
  kill -0 "$local_pid" 2>/dev/null || { echo "run: the local cluster did not start"; exit 1; }
  sleep 1
done

echo "run: demo data: a synthetic retail dataset in s3://datasets/retail/sales.csv"
AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER CD4ML_S3_ENDPOINT="http://127.0.0.1:$s3_port" \
  "${cli[@]}" dataset generate --rows 20000 --seed 7 --out s3://datasets/retail/sales.csv
for f in s3-credentials trainingrun deployment; do
  sed -e "s#http://s3.cd4ml-system.svc:4568#http://127.0.0.1:$s3_port#" \
      -e "s#http://prometheus.monitoring.svc:9090#http://127.0.0.1:$prom_port#" "examples/$f.yaml"
  echo "---"
done | kubectl apply -f -

cat <<MSG

run: the operator is training 'sales-forecast' on the local cluster.
  export KUBECONFIG=$KUBECONFIG
  kubectl get cd4ml                     # TrainingRun, ModelVersions, Deployment
  kubectl describe tr sales-forecast    # conditions and events
  kubectl patch mv sales-1 --type merge -p '{"spec":{"approved":true}}'   # approve: sales-api starts serving it
  Prometheus: http://127.0.0.1:$prom_port   S3: http://127.0.0.1:$s3_port   operator: http://127.0.0.1:$op_port/metrics
Ctrl-C stops everything.
MSG
wait "$local_pid"
