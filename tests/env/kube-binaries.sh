#!/usr/bin/env bash
# Provides etcd, kube-apiserver, kube-controller-manager and kube-scheduler for the test
# control plane and prints the folder that holds them (as symlinks or files).
#
# Order: KUBEBUILDER_ASSETS (envtest convention), then PATH, then a build of Debian's
# `kubernetes` 1.20.2 source package, cached outside the repository in $CD4ML_CACHE.
set -euo pipefail

CACHE="${CD4ML_CACHE:-$HOME/.cache/cd4ml}"
OUT="$CACHE/kube-bin"
KUBE_VERSION_DIR="kubernetes-1.20.2"
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler)
# Written next to binaries we built; its name changes whenever the build recipe does.
STAMP=".built-debian-1.20.2-reflect2-fix"

log() { echo "kube-binaries: $*" >&2; }

find_binary() {
  local name="$1"
  if [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "$KUBEBUILDER_ASSETS/$name" ]]; then
    echo "$KUBEBUILDER_ASSETS/$name"; return 0
  fi
  if [[ -x "$OUT/$name" && ( "$name" == etcd || -f "$OUT/$STAMP" ) ]]; then echo "$OUT/$name"; return 0; fi
  command -v "$name" 2>/dev/null && return 0
  return 1
}

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

# Go >= 1.18 changed reflect.mapiterinit to fill an iterator passed by pointer; the vendored
# reflect2 v1.0.1 still expects a returned pointer and crashes the apiserver. This applies
# the upstream v1.0.2 fix (full hiter layout, iterator passed as &it).
patch_reflect2() {
  local dir="$1/vendor/github.com/modern-go/reflect2"
  grep -q "m unsafe.Pointer, it \*hiter)" "$dir/unsafe_link.go" && return 0
  python3 - "$dir" <<'PY'
import pathlib, sys
d = pathlib.Path(sys.argv[1])
link = d / "unsafe_link.go"
s = link.read_text()
s = s.replace("func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer) *hiter",
              "func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer, it *hiter)")
s = s.replace("""	// rest fields are ignored
}""", """	t           unsafe.Pointer
	h           unsafe.Pointer
	buckets     unsafe.Pointer
	bptr        unsafe.Pointer
	overflow    *[]unsafe.Pointer
	oldoverflow *[]unsafe.Pointer
	startBucket uintptr
	offset      uint8
	wrapped     bool
	B           uint8
	i           uint8
	bucket      uintptr
	checkBucket uintptr
}""")
link.write_text(s)
m = d / "unsafe_map.go"
s = m.read_text()
old = """	return &UnsafeMapIterator{
		hiter:      mapiterinit(type2.rtype, *(*unsafe.Pointer)(obj)),"""
new = """	var it hiter
	mapiterinit(type2.rtype, *(*unsafe.Pointer)(obj), &it)
	return &UnsafeMapIterator{
		hiter:      &it,"""
assert old in s, "unexpected reflect2 source"
m.write_text(s.replace(old, new))
PY
}

build_from_debian_source() {
  apt_install golang-go rsync make python3 dpkg-dev
  local src="$CACHE/src"
  mkdir -p "$src"
  if [[ ! -d "$src/$KUBE_VERSION_DIR" ]]; then
    local list=/etc/apt/sources.list.d/cd4ml-deb-src.list
    if [[ ! -f "$list" ]]; then
      # Must carry the same signed-by as the machine's own sources or apt refuses.
      local uri suite
      uri=$(grep -hoE 'https?://[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -1 || true)
      uri="${uri:-http://deb.debian.org/debian}"
      suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
      echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" > "$list"
    fi
    apt-get update -qq >&2
    log "downloading Debian's kubernetes source package"
    (cd "$src" && apt-get source --download-only kubernetes >&2)
    tar -C "$src" -xzf "$src"/kubernetes_*.orig.tar.gz
  fi
  local tree="$src/$KUBE_VERSION_DIR"
  patch_reflect2 "$tree"
  log "building kube-apiserver, kube-controller-manager, kube-scheduler (about 7 minutes cold on 2 cores)"
  (cd "$tree" && make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler" >&2)
  mkdir -p "$OUT"
  for b in kube-apiserver kube-controller-manager kube-scheduler; do
    install -m 0755 "$tree/_output/bin/$b" "$OUT/$b"
  done
  touch "$OUT/$STAMP"
}

need_build=0
for b in kube-apiserver kube-controller-manager kube-scheduler; do
  find_binary "$b" >/dev/null || need_build=1
done
((need_build)) && build_from_debian_source
find_binary etcd >/dev/null || apt_install etcd-server

mkdir -p "$OUT"
for b in "${BINARIES[@]}"; do
  path=$(find_binary "$b") || { log "no $b found"; exit 1; }
  [[ "$path" == "$OUT/$b" ]] || ln -sf "$path" "$OUT/$b"
done
echo "$OUT"
