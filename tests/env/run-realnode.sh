#!/usr/bin/env bash
# `make run` on the real node: brings it up (tests/env/realnode.sh), installs the operator with
# `kubectl apply -k config/test` (config/default with the locally built image), puts demo data in S3 and applies
# the examples as they are. Ctrl-C (or any exit) takes the node down again and leaves nothing running.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
CACHE="${CD4ML_CACHE:-$HOME/.cache/cd4ml}"
node=tests/env/realnode.sh
work="${CD4ML_REALNODE_DIR:-$root/.cache/realnode}"

sleeper=""
trap 'echo; echo "run: stopping the real node"; [[ -z $sleeper ]] || kill "$sleeper" 2>/dev/null; bash "$node" down' EXIT
trap 'exit 130' INT TERM

echo "run: starting the real node (cold: provisioning takes about 25 minutes; warm: about 1 minute)"
bash "$node" up
# shellcheck disable=SC1091
. "$work/realnode.env"
export KUBECONFIG="$CD4ML_REALNODE_KUBECONFIG"

echo "run: installing the operator: kubectl apply -k config/test"
kubectl apply -k config/test 2> >(grep -v 'version difference' >&2) >/dev/null
kubectl -n cd4ml-system rollout status deployment/cd4ml-operator --timeout=5m

echo "run: demo data: a synthetic retail dataset in s3://datasets/retail/sales.csv"
dotnet build operator/Cd4ml.Cli -c "${CONFIGURATION:-Debug}" -nologo -v q
AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER CD4ML_S3_ENDPOINT="$CD4ML_REALNODE_S3_URL" \
  dotnet "operator/Cd4ml.Cli/bin/${CONFIGURATION:-Debug}/net10.0/cd4ml.dll" \
  dataset generate --rows 20000 --seed 7 --out s3://datasets/retail/sales.csv
# The node has cluster DNS and S3/Prometheus Services under the names the examples use: they apply as they are.
kubectl apply -f examples/s3-credentials.yaml -f examples/trainingrun.yaml -f examples/deployment.yaml \
  2> >(grep -v 'version difference' >&2)

cat <<MSG

run: the operator (two replicas, image $CD4ML_REALNODE_IMAGE) is training 'sales-forecast' on the real node.
  export KUBECONFIG=$KUBECONFIG
  kubectl get cd4ml,pods -A                 # TrainingRun, ModelVersions, Deployment; the Job and model servers
  kubectl describe tr sales-forecast        # conditions and events
  kubectl patch mv sales-1 --type merge -p '{"spec":{"approved":true}}'   # approve: sales-api starts serving it
  bash $node ns curl -s http://<ClusterIP>/predict ...                     # Pod and Service addresses
  Prometheus: $CD4ML_REALNODE_PROMETHEUS_URL   S3: $CD4ML_REALNODE_S3_URL   logs: $CD4ML_REALNODE_LOGS
Ctrl-C stops everything.
MSG
sleep infinity &
sleeper=$!
wait "$sleeper"
