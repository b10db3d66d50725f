#!/usr/bin/env bash
# `make run` on the real node: brings it up (tests/env/realnode.sh), installs the operator with
# `kubectl apply -k config/test` (config/default with the locally built image), puts demo data in S3 and tells the
# story: v1 trained, approved, serving; the load generator's traffic; v2 canaried and promoted; a bad version rolled
# back automatically, rollouts shown live by the kubectl plugin. Ctrl-C (or any exit) takes the node down again.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
CACHE="${CD4ML_CACHE:-$HOME/.cache/cd4ml}"
node=tests/env/realnode.sh
work="${CD4ML_REALNODE_DIR:-$root/.cache/realnode}"

sleeper="" watcher=""
trap 'echo; echo "run: stopping the real node"; [[ -z $sleeper ]] || kill "$sleeper" 2>/dev/null
      [[ -z $watcher ]] || kill "$watcher" 2>/dev/null; bash "$node" down' EXIT
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
cli=(dotnet "operator/Cd4ml.Cli/bin/${CONFIGURATION:-Debug}/net10.0/cd4ml.dll")
AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER CD4ML_S3_ENDPOINT="$CD4ML_REALNODE_S3_URL" \
  "${cli[@]}" dataset generate --rows 20000 --seed 7 --out s3://datasets/retail/sales.csv
# The demo's bad version answers badly through spec.faultInjection, which the operator honours only when allowed.
kubectl -n cd4ml-system set env deployment/cd4ml-operator CD4ML_ALLOW_FAULT_INJECTION=true >/dev/null
kubectl -n cd4ml-system rollout status deployment/cd4ml-operator --timeout=5m >/dev/null

# The story (README, "What `make run` does"): each step with plain kubectl, rollouts shown live by the plugin.
plugin() { "${cli[@]}" kubectl "$@"; }
k() { kubectl "$@" 2> >(grep -v 'version difference' >&2); }
field() { kubectl get "$1" -o "jsonpath=$2" 2>/dev/null; }
step() { echo; echo "run: [$(date -u +%T)] $*"; }
wait_until() {  # what, seconds, command...: polls quietly
  local what=$1 deadline=$((SECONDS + $2)); shift 2
  until "$@"; do
    ((SECONDS < deadline)) || { echo "run: timed out waiting for $what"; return 1; }
    sleep 2
  done
}
watcher=""
live_until() {  # what, seconds, command...: the live view of sales-api until the command succeeds
  "${cli[@]}" kubectl get mld sales-api --watch &
  watcher=$!
  wait_until "$@" || true
  kill -TERM "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null || true
  watcher=""
}
trained() { local v; v=$(field "tr/$1" '{.status.modelVersion}'); [[ -n $v && $v != "${2:-}" ]]; }

# The node has cluster DNS and S3/Prometheus Services under the names the examples use: they apply as they are.
step "1/4 train v1: kubectl apply -f examples/s3-credentials.yaml -f examples/trainingrun.yaml -f examples/deployment.yaml"
k apply -f examples/s3-credentials.yaml -f examples/trainingrun.yaml -f examples/deployment.yaml
wait_until "the first training run" 900 trained sales-forecast
plugin get tr sales-forecast
v1=$(field tr/sales-forecast '{.status.modelVersion}')
step "approve $v1: kubectl patch mv $v1 --type merge -p '{\"spec\":{\"approved\":true}}'  (kubectl cd4ml approve mv $v1)"
plugin approve mv "$v1"
wait_until "sales-api to serve $v1" 600 bash -c '[[ $(kubectl get mld/sales-api -o jsonpath={.status.phase} 2>/dev/null) == Healthy ]]'
plugin get mld sales-api

step "2/4 steady traffic: the load generator (cd4ml load) in the cluster, through Service sales-api"
sed "s#image: ghcr.io/cd4ml/cd4ml:.*#image: $CD4ML_REALNODE_IMAGE#" examples/load-generator.yaml | k apply -f -
kubectl rollout status deployment/sales-load --timeout=5m >/dev/null
sleep 16
k logs deployment/sales-load --tail 2

step "3/4 v2: more trees: kubectl patch tr sales-forecast --type merge -p '{\"spec\":{\"trainer\":{\"hyperparameters\":{\"numberOfTrees\":\"200\"}}}}'"
k patch tr sales-forecast --type merge -p '{"spec":{"trainer":{"hyperparameters":{"numberOfTrees":"200"}}}}'
wait_until "the second training run" 900 trained sales-forecast "$v1"
v2=$(field tr/sales-forecast '{.status.modelVersion}')
step "approve $v2: its canary gets 25% then 50% of the traffic, analysed every 10s, then it is promoted"
plugin approve mv "$v2"
live_until "$v2 to be promoted" 600 bash -c "[[ \$(kubectl get mld/sales-api -o jsonpath={.status.stableVersion} 2>/dev/null) == $v2 ]]"
step "$v2 promoted"
k logs deployment/sales-load --tail 1

step "4/4 a bad version: kubectl apply -f examples/bad-model/trainingrun.yaml; kubectl patch mld sales-api --type merge --patch-file examples/bad-model/deployment-patch.yaml"
k patch mld sales-api --type merge --patch-file examples/bad-model/deployment-patch.yaml
k apply -f examples/bad-model/trainingrun.yaml
wait_until "the rushed training run" 900 trained sales-rushed
v3=$(field tr/sales-rushed '{.status.modelVersion}')
step "approve $v3: its canary answers a third of its requests with 500; watch the operator roll it back"
plugin approve mv "$v3"
live_until "$v3 to be rolled back" 600 bash -c '[[ $(kubectl get mld/sales-api -o jsonpath={.status.phase} 2>/dev/null) == Degraded ]]'
step "rolled back automatically: $(field mld/sales-api '{.status.abortReason}')"
k logs deployment/sales-load --tail 2

cat <<MSG

run: the story is told; everything keeps running on the real node (image $CD4ML_REALNODE_IMAGE).
  export KUBECONFIG=$KUBECONFIG
  kubectl cd4ml get mld sales-api --watch   # or: dotnet operator/Cd4ml.Cli/bin/${CONFIGURATION:-Debug}/net10.0/cd4ml.dll kubectl get mld sales-api --watch
  kubectl get cd4ml,pods                    # TrainingRuns, ModelVersions, Deployment; Jobs, model servers, sales-load
  kubectl describe mld sales-api            # conditions and events: RolloutStarted, Promoted, AnalysisFailed, RolledBack
  kubectl logs deploy/sales-load -f         # the load generator's summary lines
  Prometheus: $CD4ML_REALNODE_PROMETHEUS_URL   S3: $CD4ML_REALNODE_S3_URL   logs: $CD4ML_REALNODE_LOGS
Ctrl-C stops everything.
MSG
sleep infinity &
sleeper=$!
wait "$sleeper"
