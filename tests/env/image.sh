#!/usr/bin/env bash
# Builds the project's image from the repository's Dockerfile.
#
#   image.sh build        `make image`: docker build -t $IMAGE . with the Dockerfile's own base images, or with
#                         local ones (below) when this script has to start its own Docker daemon
#   image.sh node-images  the images the real node runs (tests/env/realnode.sh): the sandbox ("pause") image and
#                         the project's image on local bases, saved as tars in $CD4ML_CACHE/realnode/images and
#                         rebuilt only when their inputs change
#
# Local bases need no registry: a Debian rootfs from `debootstrap` (the mirror apt uses), plus this machine's .NET
# SDK ("sdk" base) or its shared runtimes ("aspnet" base). A Docker daemon is used when one answers (DOCKER_HOST or
# the default socket); otherwise Debian's dockerd is started by hand (root; own data root in the cache, no bridge,
# no iptables) and stopped at the end.
#
# Settings: IMAGE (default ghcr.io/cd4ml/cd4ml:dev), SDK_IMAGE / RUNTIME_IMAGE (base images; LOCAL_BASES=1 forces
# the local ones), EXTRA_CA (a PEM file of extra certificate authorities the build trusts for NuGet; default: this
# machine's bundle when the build runs on local bases — behind a TLS-inspecting proxy the proxy's CA must be there).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
CACHE="${CD4ML_CACHE:-$HOME/.cache/cd4ml}"
NODE_CACHE="$CACHE/realnode"
IMAGES="$NODE_CACHE/images"
ROOTFS="$NODE_CACHE/rootfs"
DOTNET_ROOT_DIR="${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}"
SUITE=bookworm
NODE_IMAGE=cd4ml.local/cd4ml:dev
PAUSE_IMAGE=cd4ml.local/pause:3.4.1
OWN_DAEMON="$NODE_CACHE/docker"
OWN_SOCKET="$NODE_CACHE/docker.sock"
DOCKER_EXEC_ROOT=/run/cd4ml-docker

log() { echo "image: $*" >&2; }
die() { log "$*"; exit 1; }

# BuildKit (for the Dockerfile's secret mount): a CLI with buildx, or Debian's docker.io 20.10 CLI.
docker_cli() {
  local cli
  for cli in docker /usr/bin/docker; do
    command -v "$cli" >/dev/null || continue
    if DOCKER_BUILDKIT=1 "$cli" build --help 2>&1 | grep -q -- '--secret'; then echo "$cli"; return 0; fi
  done
  die "no docker CLI with BuildKit found (install docker.io, or docker-buildx-plugin with a newer docker CLI)"
}

started_daemon=""
ensure_daemon() {
  if [[ -z ${CD4ML_OWN_DOCKERD:-} ]] && "$DOCKER" version >/dev/null 2>&1; then return 0; fi
  ((EUID == 0)) || die "no Docker daemon answers and starting one needs root"
  command -v dockerd >/dev/null || {
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 docker.io >&2
  }
  export DOCKER_HOST="unix://$OWN_SOCKET"
  "$DOCKER" version >/dev/null 2>&1 && return 0   # an earlier run's daemon is still up
  mkdir -p "$OWN_DAEMON/data"
  log "starting dockerd (data root $OWN_DAEMON/data; log $OWN_DAEMON/dockerd.log)"
  # No bridge, no iptables, no ip_forward change: builds use the machine's network (--network host) to reach
  # the package registries, and the daemon leaves the host's network settings alone.
  setsid dockerd --data-root "$OWN_DAEMON/data" --exec-root "$DOCKER_EXEC_ROOT" --pidfile "$OWN_DAEMON/dockerd.pid" \
    -H "$DOCKER_HOST" --storage-driver overlay2 --bridge none --iptables=false --ip6tables=false \
    --ip-forward=false --ip-masq=false --cgroup-parent=/cd4ml-docker > "$OWN_DAEMON/dockerd.log" 2>&1 < /dev/null &
  started_daemon=$!
  echo "$started_daemon" > "$OWN_DAEMON/dockerd.started.pid"
  local i
  for ((i = 0; i < 120; i++)); do "$DOCKER" version >/dev/null 2>&1 && return 0; sleep 0.5; done
  die "dockerd did not answer; see $OWN_DAEMON/dockerd.log"
}

stop_daemon() {
  [[ -n $started_daemon ]] || return 0
  kill -TERM "$started_daemon" 2>/dev/null || true
  local i
  for ((i = 0; i < 60; i++)); do kill -0 "$started_daemon" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$started_daemon" 2>/dev/null || true
  awk -v d="$OWN_DAEMON/" -v e="$DOCKER_EXEC_ROOT" 'index($2, d) == 1 || index($2, e) == 1 {print $2}' /proc/mounts \
    | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  local h
  for h in /sys/fs/cgroup/*/cd4ml-docker /sys/fs/cgroup/cd4ml-docker; do
    [[ -d $h ]] && find "$h" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  rm -rf "$DOCKER_EXEC_ROOT" "$OWN_DAEMON/dockerd.started.pid"
  # dockerd creates /run/docker/plugins whatever its exec root: remove it if nothing else uses it.
  [[ -d /run/docker ]] && find /run/docker -depth -type d -empty -delete 2>/dev/null || true
  started_daemon=""
}
trap stop_daemon EXIT

have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

# ---- local base images ----------------------------------------------------------------------------------------
debian_rootfs() {
  [[ -f $ROOTFS/.complete ]] && return 0
  command -v debootstrap >/dev/null || {
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 debootstrap >&2
  }
  local mirror
  mirror=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
    | awk '{print $2}' | head -1)
  mirror="${mirror:-http://deb.debian.org/debian}"
  log "debootstrap $SUITE from $mirror (about 2 minutes)"
  rm -rf "$ROOTFS"
  # What the official runtime images carry besides a minimal Debian: CA certificates, ICU, OpenSSL, time zones.
  debootstrap --variant=minbase --include=ca-certificates,libicu72,libssl3,tzdata "$SUITE" "$ROOTFS" "$mirror" \
    > "$NODE_CACHE/debootstrap.log" 2>&1 || die "debootstrap failed; see $NODE_CACHE/debootstrap.log"
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  touch "$ROOTFS/.complete"
}

# Debian 12 is usr-merged (/bin -> usr/bin): every layer adds files under /usr only, never a real /bin.
local_bases() {
  local dotnet_version runtime_version
  dotnet_version=$(dotnet --version)
  runtime_version=$(dotnet --list-runtimes | awk '/^Microsoft.AspNetCore.App /{print $2}' | sort -V | tail -1)
  [[ -n $runtime_version ]] || die "no ASP.NET Core shared runtime next to $DOTNET_ROOT_DIR"
  LOCAL_DEBIAN="cd4ml.local/debian:$SUITE"
  LOCAL_SDK="cd4ml.local/dotnet-sdk:$dotnet_version"
  LOCAL_RUNTIME="cd4ml.local/dotnet-aspnet:$runtime_version"
  if ! { have_image "$LOCAL_DEBIAN" && have_image "$LOCAL_SDK" && have_image "$LOCAL_RUNTIME"; }; then import_bases; fi
  mkdir -p "$IMAGES"
  "$DOCKER" image inspect --format '{{.Id}}' "$LOCAL_SDK" "$LOCAL_RUNTIME" > "$IMAGES/bases.ids"
}

import_bases() {
  debian_rootfs
  local links="$NODE_CACHE/dotnet-link"
  mkdir -p "$links/usr/bin"
  ln -sfn /usr/share/dotnet/dotnet "$links/usr/bin/dotnet"
  # Layer members: the rootfs and the link by plain names, the .NET folder as ./… (which --transform moves).
  local rootfs_top; mapfile -t rootfs_top < <(ls -A "$ROOTFS" | grep -vx .complete)
  local env=(--change 'ENV DOTNET_ROOT=/usr/share/dotnet' --change 'ENV DOTNET_RUNNING_IN_CONTAINER=true'
             --change 'ENV DOTNET_NOLOGO=1' --change 'ENV DOTNET_CLI_TELEMETRY_OPTOUT=1')
  if ! have_image "$LOCAL_DEBIAN"; then
    log "importing $LOCAL_DEBIAN"
    tar --numeric-owner -C "$ROOTFS" -c "${rootfs_top[@]}" | "$DOCKER" import --change 'CMD ["bash"]' - "$LOCAL_DEBIAN" >/dev/null
  fi
  if ! have_image "$LOCAL_SDK"; then
    log "importing $LOCAL_SDK (Debian + $DOTNET_ROOT_DIR)"
    tar --numeric-owner --transform 's,^\./,usr/share/dotnet/,' -c -C "$ROOTFS" "${rootfs_top[@]}" \
        -C "$DOTNET_ROOT_DIR" . -C "$links" usr/bin/dotnet \
      | "$DOCKER" import "${env[@]}" --change 'CMD ["bash"]' - "$LOCAL_SDK" >/dev/null
  fi
  if ! have_image "$LOCAL_RUNTIME"; then
    log "importing $LOCAL_RUNTIME (Debian + the shared runtimes of $DOTNET_ROOT_DIR)"
    tar --numeric-owner --transform 's,^\./,usr/share/dotnet/,' -c -C "$ROOTFS" "${rootfs_top[@]}" \
        -C "$DOTNET_ROOT_DIR" ./dotnet ./host ./shared ./LICENSE.txt -C "$links" usr/bin/dotnet \
      | "$DOCKER" import "${env[@]}" --change 'ENV APP_UID=1654' --change 'ENV ASPNETCORE_HTTP_PORTS=8080' \
          --change 'CMD ["bash"]' - "$LOCAL_RUNTIME" >/dev/null
  fi
}

# ---- the project's image --------------------------------------------------------------------------------------
# Everything `docker build .` reads: the Dockerfile, .dockerignore and the sources it copies (tracked or not,
# minus ignored files), plus the base images' IDs ($1).
inputs_hash() {
  (
    cd "$root"
    git ls-files -co --exclude-standard -- Dockerfile .dockerignore Directory.Build.props Directory.Packages.props operator \
      | LC_ALL=C sort | xargs sha256sum
    echo "$1"
  ) | sha256sum | cut -c1-16
}

build() {  # tag, sdk image, runtime image, extra CA file (or "")
  local tag=$1 sdk=$2 runtime=$3 ca=$4 args=()
  [[ -n $sdk ]] && args+=(--build-arg "SDK_IMAGE=$sdk")
  [[ -n $runtime ]] && args+=(--build-arg "RUNTIME_IMAGE=$runtime")
  [[ -n $ca ]] && args+=(--secret "id=extra-ca,src=$ca")
  log "docker build -t $tag ${args[*]} --network host . (log: $NODE_CACHE/image-build.log)"
  local t0=$SECONDS
  # --network host: RUN steps reach NuGet and Debian's mirror through the machine's own network (the daemon has
  # no bridge). --progress plain keeps the log readable.
  DOCKER_BUILDKIT=1 "$DOCKER" build --progress plain --network host -t "$tag" "${args[@]}" "$root" \
    > "$NODE_CACHE/image-build.log" 2>&1 || { tail -30 "$NODE_CACHE/image-build.log" >&2; die "image build failed"; }
  log "built $tag in $((SECONDS - t0)) s"
}

save() {  # image ref, tar: the tar and tar.id (the image ID it holds)
  "$DOCKER" save "$1" -o "$2.tmp"
  "$DOCKER" image inspect --format '{{.Id}}' "$1" > "$2.id"
  mv "$2.tmp" "$2"
}

# Prints the tar of the project's image for the node's current sources. Tars are kept per input hash (the newest
# three), so checkouts that share this cache do not rebuild each other's image; only one build runs at a time.
node_images() {
  mkdir -p "$IMAGES"
  exec 8> "$NODE_CACHE/image.lock"
  flock 8
  local pause_tar="$IMAGES/cd4ml.local_pause_3.4.1.tar" tar
  if [[ -f $IMAGES/bases.ids && -f $pause_tar.id ]]; then   # up to date without starting a daemon
    tar="$IMAGES/cd4ml.local_cd4ml_dev-$(inputs_hash "$(cat "$IMAGES/bases.ids")").tar"
    if [[ -f $tar ]]; then log "$NODE_IMAGE is up to date ($tar)"; echo "$tar"; return 0; fi
  fi
  DOCKER=$(docker_cli)
  ensure_daemon
  local_bases
  if [[ ! -f $pause_tar.id ]]; then
    local pause="$NODE_CACHE/pause"
    [[ -x $pause/pause ]] || die "no pause binary in $pause (tests/env/realnode.sh provision builds it)"
    tar --numeric-owner -C "$pause" -c pause | "$DOCKER" import --change 'ENTRYPOINT ["/pause"]' - "$PAUSE_IMAGE" >/dev/null
    save "$PAUSE_IMAGE" "$pause_tar"
  fi
  tar="$IMAGES/cd4ml.local_cd4ml_dev-$(inputs_hash "$(cat "$IMAGES/bases.ids")").tar"
  if [[ ! -f $tar ]]; then
    build "$NODE_IMAGE" "$LOCAL_SDK" "$LOCAL_RUNTIME" "${EXTRA_CA:-/etc/ssl/certs/ca-certificates.crt}"
    save "$NODE_IMAGE" "$tar"
    local old
    for old in $(ls -t "$IMAGES"/cd4ml.local_cd4ml_dev-*.tar | tail -n +4); do rm -f "$old" "$old.id"; done
  fi
  echo "$tar"
}

make_image() {
  DOCKER=$(docker_cli)
  local own=0
  if ! "$DOCKER" version >/dev/null 2>&1; then own=1; fi
  ensure_daemon
  local sdk="${SDK_IMAGE:-}" runtime="${RUNTIME_IMAGE:-}" ca="${EXTRA_CA:-}"
  if [[ ${LOCAL_BASES:-} == 1 ]] || { ((own)) && [[ -z $sdk && -z $runtime ]]; }; then
    log "using local base images (no Docker daemon of yours answered, or LOCAL_BASES=1)"
    local_bases
    sdk=$LOCAL_SDK runtime=$LOCAL_RUNTIME ca="${ca:-/etc/ssl/certs/ca-certificates.crt}"
  fi
  local tag="${IMAGE:-ghcr.io/cd4ml/cd4ml:dev}"
  build "$tag" "$sdk" "$runtime" "$ca"
  if ((own)); then
    # The daemon stops with this script: hand the image over as a tar (docker load, ctr images import, podman load).
    mkdir -p "$root/out"
    "$DOCKER" save "$tag" -o "$root/out/image.tar"
    log "saved $tag to out/image.tar"
  fi
}

case "${1:-}" in
  build) make_image ;;
  node-images) node_images ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
