#!/usr/bin/env bash
# Installs what the tests need on a clean Debian machine and writes $CD4ML_CACHE/test-env.sh,
# which exports where each tool is. Idempotent: a warm machine takes a few seconds.
set -euo pipefail

CACHE="${CD4ML_CACHE:-$HOME/.cache/cd4ml}"
mkdir -p "$CACHE"
here="$(cd "$(dirname "$0")" && pwd)"
log() { echo "setup: $*" >&2; }

apt_packages=()
command -v etcd >/dev/null || apt_packages+=(etcd-server)
command -v prometheus >/dev/null || apt_packages+=(prometheus)
command -v kubectl >/dev/null || apt_packages+=(kubernetes-client)
command -v npm >/dev/null || apt_packages+=(nodejs npm)
command -v python3 >/dev/null || apt_packages+=(python3)
# The training benchmark's anchor (scikit-learn's HistGradientBoosting, pandas) and its datasets (shipped in the package).
/usr/bin/python3 -c 'import sklearn, pandas' 2>/dev/null || apt_packages+=(python3-sklearn python3-pandas)
command -v openssl >/dev/null || apt_packages+=(openssl)
command -v wrk >/dev/null || apt_packages+=(wrk) # load generator of the serving benchmark
command -v lua5.1 >/dev/null || apt_packages+=(lua5.1)                     # Argo CD health scripts' test
lua5.1 -e 'require("cjson")' 2>/dev/null || apt_packages+=(lua-cjson)
command -v chromium >/dev/null || apt_packages+=(chromium)                 # dashboard tests: Playwright drives Debian's browser
if ((${#apt_packages[@]})); then
  log "apt-get install ${apt_packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >&2
fi

S3RVER="$CACHE/node/node_modules/.bin/s3rver"
if [[ ! -x "$S3RVER" ]]; then
  log "npm install s3rver@3.7.1"
  npm install --silent --no-audit --no-fund --prefix "$CACHE/node" s3rver@3.7.1 >&2
fi

KUBE_BIN="$("$here/kube-binaries.sh")"

cat > "$CACHE/test-env.sh" <<ENV
export CD4ML_CACHE="$CACHE"
export CD4ML_KUBE_BIN="$KUBE_BIN"
export CD4ML_S3RVER="$S3RVER"
export CD4ML_PROMETHEUS="$(command -v prometheus)"
ENV
log "tools ready ($CACHE/test-env.sh)"
