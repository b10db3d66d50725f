#!/usr/bin/env bash
# A real single-node Kubernetes cluster for the tests and `make run`: containerd + runc + CNI bridge, kubelet and
# kube-proxy (iptables) 1.20.2, the test control plane, S3 (s3rver) and Prometheus, all inside one private network
# namespace with no route out. The project's image (built from the real Dockerfile) is imported into the node.
#
#   realnode.sh provision      apt packages, kubelet/kube-proxy, pause + base images, the project's image (cached)
#   realnode.sh up             provision, then start everything; writes $CD4ML_REALNODE_DIR/realnode.env
#   realnode.sh down           stop what `up` started (by recorded PID) and put the machine back as it was
#   realnode.sh status         what runs, and the env file
#   realnode.sh kubectl ARGS   kubectl against the node's apiserver
#   realnode.sh ns CMD ARGS    run a command inside the node's network namespace (Pod and ClusterIP addresses)
#   realnode.sh footprint      what a run can leave on the machine (processes, mounts, netns, iptables, sysctls)
#   realnode.sh check          exit 0 when this machine can run the node, else say what is missing
#
# Settings: CD4ML_CACHE (~/.cache/cd4ml), CD4ML_REALNODE_DIR (run state and logs, default .cache/realnode here),
# CD4ML_REALNODE_WAIT (seconds to wait while another run holds the node, default 1200).
# Needs root on Linux (network namespaces, mounts, cgroups, iptables).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
CACHE="${CD4ML_CACHE:-$HOME/.cache/cd4ml}"
NODE_CACHE="$CACHE/realnode"
WORK="${CD4ML_REALNODE_DIR:-$root/.cache/realnode}"   # per checkout (git-ignored); the node itself is one per machine
RUN="$WORK/pids"
LOGS="$WORK/logs"
NETNS=cd4ml-node
NS=(nsenter "--net=/run/netns/$NETNS")   # network namespace only: kubelet's volume mounts must stay visible to runc
OWNER=/run/cd4ml-realnode.owner          # the work dir of the run that holds the node (one per machine)
NODE_NAME=cd4ml-node
NODE_IP=10.200.0.1                       # on a veth inside the namespace: kubelet refuses a loopback --node-ip
POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.0.0.0/24                 # as Cd4ml.LocalCluster's apiserver: `kubernetes` is 10.0.0.1
S3_PORT=4568
PROMETHEUS_PORT=9090
IMAGE=cd4ml.local/cd4ml:dev
PAUSE_IMAGE=cd4ml.local/pause:3.4.1
KUBE_SRC="$CACHE/src/kubernetes-1.20.2"
NODE_BIN="$NODE_CACHE/bin"
# The kubelet sets these machine-wide (protectKernelDefaults=false); `up` saves them, `down` restores them.
KUBELET_SYSCTLS=(kernel.panic kernel.panic_on_oops vm.overcommit_memory vm.panic_on_oom
                 kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
APT_PACKAGES=(containerd runc containernetworking-plugins iptables conntrack debootstrap docker.io
              dnsmasq-base gcc libc6-dev openssl python3 curl make rsync golang-go)
SERVICES=(containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy s3rver prometheus
          discovery dns forward)

log() { echo "realnode: $*" >&2; }
die() { log "$*"; exit 1; }
ctr_() { ctr --address "$WORK/containerd.sock" --namespace k8s.io "$@"; }
kubectl_() { kubectl --kubeconfig "$WORK/admin.kubeconfig" "$@" 2> >(grep -v 'version difference' >&2); }

wait_for() {  # what, seconds, command...
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { log "timed out after ${seconds}s waiting for $what"; return 1; }
    sleep 0.5
  done
}

# ------------------------------------------------------------------------------------------------------------
# check: what this machine lacks for a real node (printed one reason a line; exit 1 when anything is missing)
check() {
  local missing=()
  [[ $(uname -s) == Linux ]] || missing+=("Linux (this is $(uname -s))")
  ((EUID == 0)) || missing+=("root (network namespaces, mounts, cgroups and iptables need it; run as root)")
  [[ -d /sys/fs/cgroup ]] || missing+=("cgroups at /sys/fs/cgroup")
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || missing+=("the overlay filesystem")
  command -v apt-get >/dev/null || missing+=("apt-get (packages: ${APT_PACKAGES[*]})")
  if ((${#missing[@]})); then printf 'real node needs: %s\n' "${missing[@]}"; return 1; fi
}

# ------------------------------------------------------------------------------------------------------------
provision() {
  check >&2 || exit 1
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]})); then
    log "apt-get install ${missing[*]}"
    apt-get update -qq >&2
    # docker.io's postinst cannot start the daemon without an init system; dockerd is started by hand below.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=600 "${missing[@]}" >&2
  fi
  mkdir -p "$NODE_CACHE"
  [[ -f "$CACHE/test-env.sh" ]] || bash "$here/setup.sh"
  node_binaries
  pause_binary
  NODE_IMAGE_TAR=$(bash "$here/image.sh" node-images)
}

# kubelet and kube-proxy from the tree kube-binaries.sh built the control plane in. k8s' make keeps Go's cache in
# the tree (_output/local/go/cache) and passes -trimpath=<tree>, so building in that same tree reuses the packages
# the control-plane build compiled.
node_binaries() {
  local stamp="$NODE_BIN/.built-debian-1.20.2"
  [[ -f $stamp ]] && return 0
  [[ -d $KUBE_SRC ]] || bash "$here/kube-binaries.sh" >/dev/null
  [[ -d $KUBE_SRC ]] || die "no Kubernetes source tree at $KUBE_SRC (tests/env/kube-binaries.sh fetches it)"
  local built="$KUBE_SRC/_output/local/bin/linux/amd64"
  if [[ ! -x $built/kubelet || ! -x $built/kube-proxy ]]; then
    log "building kubelet and kube-proxy (about 10 minutes cold on 2 cores; log: $NODE_CACHE/node-build.log)"
    local t0=$SECONDS
    (cd "$KUBE_SRC" && make WHAT="cmd/kubelet cmd/kube-proxy") > "$NODE_CACHE/node-build.log" 2>&1 \
      || die "kubelet/kube-proxy build failed; see $NODE_CACHE/node-build.log"
    log "kubelet and kube-proxy built in $((SECONDS - t0)) s"
  fi
  mkdir -p "$NODE_BIN"
  install -m 0755 "$built/kubelet" "$built/kube-proxy" "$NODE_BIN/"
  touch "$stamp"
}

# The sandbox ("pause") image: no registry is reachable, so it is compiled from the tree's own source.
pause_binary() {
  local out="$NODE_CACHE/pause/pause"
  [[ -x $out ]] && return 0
  mkdir -p "$(dirname "$out")"
  gcc -Os -static -DVERSION=3.4.1-cd4ml -o "$out" "$KUBE_SRC/build/pause/linux/pause.c"
}

# ------------------------------------------------------------------------------------------------------------
up() {
  check >&2 || exit 1
  if [[ -f $WORK/realnode.env ]] && holder_alive "$WORK"; then log "already up; env: $WORK/realnode.env"; return 0; fi
  # What an interrupted run left (its processes, namespace, mounts) goes first.
  if compgen -G "$RUN/*.pid" >/dev/null || [[ -e /run/netns/$NETNS && $(cat "$OWNER" 2>/dev/null) == "$WORK" ]]; then down; fi
  provision
  claim_node
  mkdir -p "$RUN" "$LOGS"
  trap 'log "up failed; stopping what started (logs: $LOGS)"; down' EXIT
  local t0=$SECONDS
  save_sysctls
  create_namespace
  write_pki
  write_configs
  start_containerd
  start_control_plane
  start_node
  start_services
  write_env
  trap - EXIT
  log "up in $((SECONDS - t0)) s; env: $WORK/realnode.env"
}

# One node per machine: the kubelet's cgroups (kubepods), /var/lib/kubelet and /var/log/pods are machine-wide.
claim_node() {
  local deadline=$((SECONDS + ${CD4ML_REALNODE_WAIT:-1200})) holder said=""
  exec 9> /run/cd4ml-realnode.lock
  while :; do
    flock 9
    holder=$(cat "$OWNER" 2>/dev/null || true)
    if [[ -z $holder || $holder == "$WORK" ]] || ! holder_alive "$holder"; then
      echo "$WORK" > "$OWNER"; flock -u 9; exec 9>&-; return 0
    fi
    flock -u 9
    ((SECONDS < deadline)) || die "another run ($holder) holds the real node; stop it with CD4ML_REALNODE_DIR=$holder $0 down"
    [[ $said == "$holder" ]] || log "waiting for the run in $holder to release the real node"
    said=$holder
    sleep 10
  done
}

holder_alive() {  # a work dir whose recorded processes still run
  local f
  for f in "$1"/pids/*.pid; do [[ -f $f ]] && kill -0 "$(cat "$f")" 2>/dev/null && return 0; done
  return 1
}

save_sysctls() {
  [[ -f $WORK/sysctls.saved ]] && return 0
  local k
  for k in "${KUBELET_SYSCTLS[@]}"; do echo "$k=$(sysctl -n "$k")"; done > "$WORK/sysctls.saved"
}

create_namespace() {
  [[ -e /run/netns/$NETNS ]] && return 0
  # `ip netns add` makes /run/netns a mount point when it is not one yet; `down` undoes only what this run did.
  [[ -f $WORK/netns-dir.before ]] || { mountpoint -q /run/netns && echo mount || { [[ -d /run/netns ]] && echo dir || echo absent; }; } \
    > "$WORK/netns-dir.before"
  [[ -f $WORK/netns.before ]] || ls -A /run/netns 2>/dev/null > "$WORK/netns.before" || true
  ip netns add "$NETNS"
  "${NS[@]}" ip link set lo up
  # Both ends of the veth stay in the namespace: the node gets a non-loopback address and a default route that
  # leads nowhere, so nothing started here can reach beyond the namespace.
  "${NS[@]}" ip link add cd4ml0 type veth peer name cd4ml1
  "${NS[@]}" ip addr add "$NODE_IP/24" dev cd4ml0
  "${NS[@]}" ip link set cd4ml0 up
  "${NS[@]}" ip link set cd4ml1 up
  "${NS[@]}" ip route add default dev cd4ml0
  "${NS[@]}" sysctl -qw net.ipv4.ip_forward=1
  "${NS[@]}" sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null \
    || { modprobe br_netfilter && "${NS[@]}" sysctl -qw net.bridge.bridge-nf-call-iptables=1; }
}

start_bg() {  # name, command... (inside the namespace, in its own session; the PID is recorded)
  local name=$1; shift
  "${NS[@]}" setsid "$@" > "$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN/$name.pid"
}

kubeconfig() {  # file, server, token
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: cd4ml-node, cluster: {server: "$2", certificate-authority: "$WORK/pki/ca.crt"}}]
users: [{name: user, user: {token: "$3"}}]
contexts: [{name: cd4ml-node, context: {cluster: cd4ml-node, user: user}}]
current-context: cd4ml-node
EOF
}

write_pki() {
  local pki="$WORK/pki"
  [[ -f $pki/tokens.csv ]] && return 0
  mkdir -p "$pki"
  (
    cd "$pki"
    sign() {  # name, subject, subjectAltName (or "")
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
      if [[ -n $3 ]]; then echo "subjectAltName=$3" > "$1.ext"; else : > "$1.ext"; fi
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile "$1.ext" \
        -out "$1.crt" 2>/dev/null
    }
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj /CN=cd4ml-node-ca 2>/dev/null
    # Pods reach the apiserver as kubernetes.default (10.0.0.1); the node as $NODE_IP; the tests on loopback.
    sign apiserver /CN=kube-apiserver "IP:10.0.0.1,IP:$NODE_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    # kubectl logs/exec: apiserver -> kubelet:10250, each side verifying the other with this CA.
    sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" ""
    sign kubelet "/CN=$NODE_NAME" "IP:$NODE_IP,DNS:$NODE_NAME"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    local admin node proxy
    admin=$(openssl rand -hex 16) node=$(openssl rand -hex 16) proxy=$(openssl rand -hex 16)
    printf '%s\n' "$admin,admin,admin,system:masters" "$node,system:node:$NODE_NAME,node,system:nodes" \
      "$proxy,system:kube-proxy,kube-proxy,system:node-proxier" > tokens.csv.tmp
    kubeconfig "$WORK/node-admin.kubeconfig" "https://$NODE_IP:6443" "$admin"
    kubeconfig "$WORK/kubelet.kubeconfig" "https://$NODE_IP:6443" "$node"
    kubeconfig "$WORK/kube-proxy.kubeconfig" "https://$NODE_IP:6443" "$proxy"
    echo "$admin" > admin.token
    mv tokens.csv.tmp tokens.csv
  )
}

write_configs() {
  mkdir -p "$WORK/cni" "$WORK/kubelet" "$NODE_CACHE/containerd"
  # The containerd root (images, snapshots) stays in the cache so a warm `up` need not import again; its state
  # (sockets, running tasks) lives in the run's directory.
  cat > "$WORK/containerd.toml" <<EOF
version = 2
root = "$NODE_CACHE/containerd"
state = "$WORK/containerd-state"
[grpc]
  address = "$WORK/containerd.sock"
[ttrpc]
  address = "$WORK/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Lowering oom_score_adj needs CAP_SYS_RESOURCE, which containers on such hosts lack: without this every
  # sandbox fails with "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$WORK/cni"
EOF
  cat > "$WORK/cni/10-cd4ml.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "cd4ml", "plugins": [
  {"type": "bridge", "bridge": "cd4mlbr0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": "$WORK/cni-ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
  # The node's own resolver: only cluster names (dnsmasq, below) — nothing is resolved or asked beyond the namespace.
  echo "nameserver $NODE_IP" > "$WORK/resolv.conf"
  cat > "$WORK/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
tlsCertFile: $WORK/pki/kubelet.crt
tlsPrivateKeyFile: $WORK/pki/kubelet.key
authentication: {anonymous: {enabled: false}, webhook: {enabled: false}, x509: {clientCAFile: $WORK/pki/ca.crt}}
authorization: {mode: AlwaysAllow}
clusterDomain: cluster.local
clusterDNS: [$NODE_IP]
resolvConf: $WORK/resolv.conf
# The hand-imported images cannot be pulled back: image GC must never delete them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "2%", imagefs.available: "2%"}
EOF
  cat > "$WORK/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $WORK/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
clusterCIDR: 10.244.0.0/16
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# nf_conntrack_max is machine-wide: leave it and the conntrack timeouts alone (0 = do not touch).
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

start_containerd() {
  start_bg containerd containerd --config "$WORK/containerd.toml"
  wait_for containerd 30 ctr_ version
  # The containerd root is cached: import an image only when it differs from the one imported last.
  local ref tar stamp
  for ref in "$PAUSE_IMAGE" "$IMAGE"; do
    tar="$NODE_IMAGE_TAR"
    [[ $ref == "$PAUSE_IMAGE" ]] && tar="$NODE_CACHE/images/$(tar_name "$ref").tar"
    stamp="$NODE_CACHE/containerd/imported-$(tar_name "$ref")"
    if [[ $(cat "$stamp" 2>/dev/null) != "$(cat "$tar.id")" ]] || ! ctr_ images check "name==$ref" | grep -q complete; then
      log "importing $ref into the node"
      ctr_ images import "$tar" >/dev/null
      cp "$tar.id" "$stamp"
    fi
  done
}

tar_name() { echo "$1" | tr '/:' '__'; }

start_control_plane() {
  . "$CACHE/test-env.sh"
  local bin="$CD4ML_KUBE_BIN" pki="$WORK/pki"
  start_bg etcd "$bin/etcd" --name cd4ml-node --data-dir "$WORK/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster cd4ml-node=http://127.0.0.1:2380
  wait_for etcd 30 "${NS[@]}" curl -sf http://127.0.0.1:2379/health
  # As Cd4ml.LocalCluster's apiserver, plus the Node authorizer, the kubelet client certificate and the node's
  # address as the `kubernetes` Service's endpoint (Pods such as the operator reach the API through it).
  start_bg kube-apiserver "$bin/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
    --bind-address=0.0.0.0 --advertise-address="$NODE_IP" --secure-port=6443 --insecure-port=0 \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
    --token-auth-file "$pki/tokens.csv" --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --service-account-issuer=https://kubernetes.default.svc --service-account-key-file "$pki/sa.pub" \
    --service-account-signing-key-file "$pki/sa.key" --service-cluster-ip-range="$SERVICE_CIDR" \
    --allow-privileged=true --feature-gates=TTLAfterFinished=true \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$pki/apiserver-kubelet-client.key" --kubelet-certificate-authority "$pki/ca.crt" \
    --kubelet-preferred-address-types=InternalIP
  wait_for kube-apiserver 120 "${NS[@]}" kubectl --kubeconfig "$WORK/node-admin.kubeconfig" get --raw /readyz
  local common=(--kubeconfig "$WORK/node-admin.kubeconfig" --authentication-kubeconfig "$WORK/node-admin.kubeconfig"
                --authorization-kubeconfig "$WORK/node-admin.kubeconfig" --leader-elect=false --bind-address=127.0.0.1
                --port=0)
  start_bg kube-controller-manager "$bin/kube-controller-manager" "${common[@]}" --secure-port=10257 \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --feature-gates=TTLAfterFinished=true
  start_bg kube-scheduler "$bin/kube-scheduler" "${common[@]}" --secure-port=10259
}

start_node() {
  local t0=$SECONDS
  # Harmless on such hosts: "Failed to set rlimit on max file handles" and "write /proc/self/oom_score_adj:
  # permission denied" (no CAP_SYS_RESOURCE); AWS credential lookups find no route.
  start_bg kubelet "$NODE_BIN/kubelet" --config "$WORK/kubelet.yaml" --kubeconfig "$WORK/kubelet.kubeconfig" \
    --root-dir "$WORK/kubelet" --cert-dir "$WORK/kubelet/pki" --container-runtime=remote \
    --container-runtime-endpoint="unix://$WORK/containerd.sock" --runtime-request-timeout=5m \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --pod-infra-container-image="$PAUSE_IMAGE" --v=1
  start_bg kube-proxy "$NODE_BIN/kube-proxy" --config "$WORK/kube-proxy.yaml"
  wait_for "node Ready (see $LOGS/kubelet.log)" 180 node_ready
  log "node Ready $((SECONDS - t0)) s after the kubelet started"
  wait_for "the default ServiceAccount" 60 node_kubectl get serviceaccount default
}

node_kubectl() { "${NS[@]}" kubectl --kubeconfig "$WORK/node-admin.kubeconfig" "$@" 2>/dev/null; }
node_ready() {
  [[ $(node_kubectl get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]]
}

# S3 and Prometheus on the node's address, reachable from Pods as in a cluster (s3.cd4ml-system.svc:4568,
# prometheus.monitoring.svc:9090 and prometheus-operated.monitoring.svc:9090, the names config/ and examples/ use);
# cluster DNS (dnsmasq) and Prometheus targets fed from the API; one forwarder that makes the apiserver, S3 and
# Prometheus reachable from the machine's loopback for tests and users.
start_services() {
  . "$CACHE/test-env.sh"
  mkdir -p "$WORK/s3" "$WORK/dns"
  # --no-vhost-buckets: otherwise s3rver takes a Host such as s3.cd4ml-system.svc for a bucket name (NoSuchBucket).
  start_bg s3rver "$CD4ML_S3RVER" -d "$WORK/s3" -a "$NODE_IP" -p "$S3_PORT" --silent --no-vhost-buckets \
    --configure-bucket datasets --configure-bucket models
  echo '[]' > "$WORK/scrape-targets.json"
  : > "$WORK/dns/services"
  cat > "$WORK/prometheus.yml" <<EOF
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: cd4ml
    file_sd_configs: [{files: ["$WORK/scrape-targets.json"], refresh_interval: 1s}]
EOF
  start_bg prometheus "$CD4ML_PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prometheus" \
    --web.listen-address="$NODE_IP:$PROMETHEUS_PORT" --storage.tsdb.retention.time=1d
  start_bg discovery python3 "$here/node-discovery.py" --server "https://$NODE_IP:6443" \
    --token-file "$WORK/pki/admin.token" --ca-file "$WORK/pki/ca.crt" --targets "$WORK/scrape-targets.json" \
    --hosts-dir "$WORK/dns"
  # Answers cluster.local from the hosts files node-discovery.py writes (re-read on change); no upstream servers.
  start_bg dns dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll --user=root --pid-file= \
    --listen-address="$NODE_IP" --bind-interfaces --hostsdir="$WORK/dns" --local=/cluster.local/ --log-facility=-
  cluster_services | node_kubectl apply -f - > /dev/null
  rm -f "$WORK/forward.ports"
  # The forwarder listens on the machine's loopback and connects inside the namespace.
  python3 "$here/netns-forward.py" --netns "/run/netns/$NETNS" --ports-file "$WORK/forward.ports" \
    "apiserver=$NODE_IP:6443" "s3=$NODE_IP:$S3_PORT" "prometheus=$NODE_IP:$PROMETHEUS_PORT" \
    > "$LOGS/forward.log" 2>&1 < /dev/null &
  echo $! > "$RUN/forward.pid"
  wait_for "the loopback forwarder (see $LOGS/forward.log)" 20 test -s "$WORK/forward.ports"
  wait_for "s3rver (see $LOGS/s3rver.log)" 30 "${NS[@]}" curl -s -o /dev/null "http://$NODE_IP:$S3_PORT/"
  wait_for "Prometheus (see $LOGS/prometheus.log)" 60 "${NS[@]}" curl -sf "http://$NODE_IP:$PROMETHEUS_PORT/-/ready"
  wait_for "cluster DNS records (see $LOGS/discovery.log)" 30 grep -q ' s3.cd4ml-system.svc' "$WORK/dns/services"
  wait_for "cluster DNS (see $LOGS/dns.log)" 30 dns_listening
}

# Selector-less Services whose Endpoints are the node's address: S3 and Prometheus under their cluster names.
cluster_services() {
  printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n---\n' cd4ml-system monitoring
  local svc ns name port
  for svc in "cd4ml-system s3 $S3_PORT" "monitoring prometheus $PROMETHEUS_PORT" \
             "monitoring prometheus-operated $PROMETHEUS_PORT"; do
    read -r ns name port <<<"$svc"
    printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s}\nspec: {ports: [{name: http, port: %s}]}\n---\n' \
      "$name" "$ns" "$port"
    printf 'apiVersion: v1\nkind: Endpoints\nmetadata: {name: %s, namespace: %s}\nsubsets: [{addresses: [{ip: %s}], ports: [{name: http, port: %s}]}]\n---\n' \
      "$name" "$ns" "$NODE_IP" "$port"
  done
}

dns_listening() { "${NS[@]}" ss -Hlun "sport = :53" | grep -q "$NODE_IP:53"; }

forward_port() { sed -n "s/^$1=//p" "$WORK/forward.ports"; }

write_env() {
  local api s3 prom
  api=$(forward_port apiserver) s3=$(forward_port s3) prom=$(forward_port prometheus)
  kubeconfig "$WORK/admin.kubeconfig" "https://127.0.0.1:$api" "$(cat "$WORK/pki/admin.token")"
  cat > "$WORK/realnode.env.tmp" <<EOF
# Written by tests/env/realnode.sh up; removed by down. "From the machine" addresses are on loopback.
export CD4ML_REALNODE_DIR="$WORK"
export CD4ML_REALNODE_NETNS="$NETNS"
export CD4ML_REALNODE_NETNS_PATH="/run/netns/$NETNS"
export CD4ML_REALNODE_KUBECONFIG="$WORK/admin.kubeconfig"
export CD4ML_REALNODE_IMAGE="$IMAGE"
export CD4ML_REALNODE_NODE_IP="$NODE_IP"
export CD4ML_REALNODE_S3_URL="http://127.0.0.1:$s3"
export CD4ML_REALNODE_S3_POD_URL="http://s3.cd4ml-system.svc:$S3_PORT"
export CD4ML_REALNODE_PROMETHEUS_URL="http://127.0.0.1:$prom"
export CD4ML_REALNODE_PROMETHEUS_POD_URL="http://prometheus.monitoring.svc:$PROMETHEUS_PORT"
export CD4ML_REALNODE_LOGS="$LOGS"
EOF
  mv "$WORK/realnode.env.tmp" "$WORK/realnode.env"
}

# ------------------------------------------------------------------------------------------------------------
down() {
  [[ -d $WORK ]] || { log "nothing to stop in $WORK"; return 0; }
  rm -f "$WORK/realnode.env"
  local holder; holder=$(cat "$OWNER" 2>/dev/null || true)
  if [[ -n $holder && $holder != "$WORK" ]] && holder_alive "$holder"; then
    # Another run holds the node (e.g. this one was still waiting for it): the namespace, mounts, cgroups and
    # machine-wide paths are that run's; only what this run recorded is stopped.
    stop_recorded "${SERVICES[@]}"
    log "down: the real node belongs to the run in $holder; left it alone"
    return 0
  fi
  stop_recorded discovery dns prometheus s3rver forward kube-controller-manager kube-scheduler
  # Pods go while the kubelet still runs (and nothing recreates them), so that it tears down their sandboxes,
  # volumes and CNI itself.
  if [[ -f $RUN/kubelet.pid ]] && kill -0 "$(cat "$RUN/kubelet.pid")" 2>/dev/null; then
    node_kubectl delete pods --all-namespaces --all --grace-period=2 --wait=true --timeout=60s >/dev/null || true
  fi
  stop_recorded kube-proxy kubelet
  stop_recorded kube-apiserver
  stop_recorded etcd
  if [[ -f $RUN/containerd.pid ]]; then
    local task
    for task in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s KILL "$task" 2>/dev/null || true; done
    for task in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$task" >/dev/null 2>&1 || true; done
    for task in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers delete "$task" >/dev/null 2>&1 || true; done
    stop_recorded containerd
  fi
  # Shims outlive a killed containerd; theirs name this run's socket (matched per PID, never by a broad name).
  local pid
  for pid in $(pgrep -f -- "containerd-shim-runc-v2 .*-address $WORK/containerd.sock" || true); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  # Volumes and overlay rootfs mounts, deepest first.
  awk -v w="$WORK/" -v c="$NODE_CACHE/containerd/" 'index($2, w) == 1 || index($2, c) == 1 {print $2}' /proc/mounts \
    | sort -r | while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
  [[ -e /run/netns/$NETNS ]] && ip netns del "$NETNS"   # with it: veths, the bridge, every iptables rule
  remove_pod_netns
  restore_netns_dir
  remove_cgroups
  restore_sysctls
  # Paths the kubelet and containerd use whatever their flags say; remove only what is left empty.
  rm -rf /var/log/pods /var/log/containers
  rm -f /var/lib/kubelet/device-plugins/kubelet.sock /var/lib/kubelet/device-plugins/DEPRECATION
  local dir
  for dir in /run/containerd /var/lib/cni /var/lib/kubelet; do
    [[ -d $dir ]] && find "$dir" -depth -type d -empty -delete 2>/dev/null || true
  done
  rm -rf "$WORK/etcd" "$WORK/kubelet" "$WORK/containerd-state" "$WORK/cni-ipam" "$WORK/s3" "$WORK/prometheus" \
    "$WORK/pki" "$WORK"/*.kubeconfig "$WORK/forward.ports" "$WORK/containerd.sock"*
  if [[ $(cat "$OWNER" 2>/dev/null) == "$WORK" ]]; then rm -f "$OWNER"; fi
  log "down: stopped and cleaned up (logs kept in $LOGS)"
}

stop_recorded() {  # names: TERM their recorded PIDs together, KILL what still runs after 15 s
  local name pid pids=() i
  for name in "$@"; do
    [[ -f $RUN/$name.pid ]] || continue
    pid=$(cat "$RUN/$name.pid")
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
    rm -f "$RUN/$name.pid"
  done
  for ((i = 0; i < 75 && ${#pids[@]}; i++)); do
    local alive=()
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    pids=("${alive[@]}")
    ((${#pids[@]})) && sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

remove_cgroups() {  # the kubelet's (cgroupfs driver) in every v1 hierarchy, or under the v2 root
  local hierarchy group
  for hierarchy in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    for group in kubepods kubepods.slice; do
      [[ -d $hierarchy$group ]] && find "$hierarchy$group" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done
  done
}

# containerd removes a Pod's network namespace (/run/netns/cni-…) when it stops the sandbox; a sandbox whose teardown was
# cut short (the kubelet stopped mid-RemovePodSandbox kills the CNI plugin) leaves it mounted. Those that appeared since
# `up` and hold no process are this run's leftovers.
remove_pod_netns() {
  local entry
  for entry in $(ls -A /run/netns 2>/dev/null); do
    [[ $entry == cni-* ]] || continue
    grep -qxF "$entry" "$WORK/netns.before" 2>/dev/null && continue
    [[ -z $(ip netns pids "$entry" 2>/dev/null) ]] || continue
    ip netns del "$entry" 2>/dev/null && log "down: removed the Pod network namespace $entry its sandbox left behind"
  done
  rm -f "$WORK/netns.before"
}

restore_netns_dir() {
  local before; before=$(cat "$WORK/netns-dir.before" 2>/dev/null || echo mount)
  rm -f "$WORK/netns-dir.before"
  [[ $before != mount && -d /run/netns && -z $(ls -A /run/netns) ]] || return 0
  mountpoint -q /run/netns && umount /run/netns
  [[ $before == absent ]] && rmdir /run/netns
  return 0
}

restore_sysctls() {
  [[ -f $WORK/sysctls.saved ]] || return 0
  local line
  while read -r line; do sysctl -qw "$line" || true; done < "$WORK/sysctls.saved"
  rm -f "$WORK/sysctls.saved"
}

# ------------------------------------------------------------------------------------------------------------
# Everything a run could leave behind, in a form two snapshots can be compared by (`down` must restore it).
footprint() {
  set +e +o pipefail   # a section with nothing to show is an empty section, not a failure
  echo "## processes naming the node's directories"
  local pid
  for pid in $(pgrep -f -- "$WORK/|$NODE_CACHE/|/run/netns/$NETNS"); do
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -v -- ' footprint' | sed "s/^/$pid /"
  done
  echo "## recorded PIDs still running"
  for pid in "$RUN"/*.pid; do [[ -f $pid ]] && kill -0 "$(cat "$pid")" 2>/dev/null && echo "$pid"; done
  echo "## mounts"
  awk '$2 ~ /kubelet|containerd|cd4ml|netns|kubepods|docker/ {print $2, $3}' /proc/mounts | sort
  echo "## network namespaces"
  ip netns list | sort
  echo "## host network interfaces"
  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
  echo "## host iptables"
  { iptables-save; ip6tables-save; } 2>/dev/null | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]//' | sort
  echo "## sysctls the kubelet sets"
  sysctl "${KUBELET_SYSCTLS[@]}" 2>/dev/null
  echo "## cgroups"
  ls -d /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods* /sys/fs/cgroup/*/cd4ml-docker 2>/dev/null
  echo "## machine-wide directories"
  ls -d /var/log/pods /var/log/containers /var/lib/kubelet /run/containerd /run/docker /run/cd4ml-docker /run/netns 2>/dev/null
  return 0
}

status() {
  local name
  for name in "${SERVICES[@]}"; do
    if [[ -f $RUN/$name.pid ]] && kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null; then
      echo "$name: running (pid $(cat "$RUN/$name.pid"))"
    else
      echo "$name: stopped"
    fi
  done
  [[ -f $WORK/realnode.env ]] && cat "$WORK/realnode.env"
  return 0
}

case "${1:-}" in
  check) check ;;
  provision) provision ;;
  up) up ;;
  down) down ;;
  status) status ;;
  footprint) footprint ;;
  kubectl) shift; kubectl_ "$@" ;;
  ns) shift; exec "${NS[@]}" "$@" ;;
  *) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac
