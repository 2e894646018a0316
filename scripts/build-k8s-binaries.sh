#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kwok from the Go module
# proxy and caches them by version under $WEIR_CACHE_DIR (default ~/.cache/weir), outside git.
# A second run with the binaries present returns in well under a second.
#
# Usage: scripts/build-k8s-binaries.sh [--print-bindir]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

CACHE=${WEIR_CACHE_DIR:-$HOME/.cache/weir}
BIN="$CACHE/k8s/$K8S_VERSION/bin"
SRC="$CACHE/k8s/$K8S_VERSION/src"
KWOK_BIN="$CACHE/kwok/$KWOK_VERSION/bin"
if [ "${1:-}" = "--print-bindir" ]; then echo "$BIN"; exit 0; fi

log() { printf '[build-k8s] %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { log "error: '$1' is not installed; install it (Go >= 1.26 is required) and re-run"; exit 2; }; }

have_k8s() {
  [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ] && [ -x "$BIN/kube-scheduler" ] \
    && [ -x "$BIN/etcd" ] && [ -f "$BIN/.stamp" ] && [ "$(cat "$BIN/.stamp")" = "$K8S_VERSION" ]
}

build_k8s() {
  need go
  local start=$SECONDS
  local staging="v0.${K8S_VERSION#v1.}"
  local minor; minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  export CGO_ENABLED=0 GOFLAGS=-mod=mod
  mkdir -p "$SRC" "$BIN"
  cd "$SRC"
  [ -f go.mod ] || go mod init local.weir/k8sbin >/dev/null 2>&1
  log "downloading k8s.io/kubernetes@$K8S_VERSION"
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')
  # Every staging module kubernetes replaces with ./staging/src/... is replaced by its v0.X.Y tag.
  local mods
  mods=$(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*#\1#p' "$gomod")
  [ -n "$mods" ] || { log "error: found no staging replaces in $gomod"; exit 1; }
  local args=()
  for m in $mods; do args+=("-replace=$m=$m@$staging"); done
  go mod edit "${args[@]}"
  log "replaced $(echo "$mods" | wc -w) staging modules with $staging"
  local etcd=${ETCD_VERSION:-}
  if [ -z "$etcd" ]; then
    etcd=$(sed -n 's#^[[:space:]]*go\.etcd\.io/etcd/server/v3 \(v[^ ]*\).*#\1#p' "$gomod" | head -1)
  fi
  log "resolving kube commands and etcd $etcd"
  go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" \
    "k8s.io/kubernetes/cmd/kube-controller-manager@$K8S_VERSION" \
    "k8s.io/kubernetes/cmd/kube-scheduler@$K8S_VERSION" \
    "go.etcd.io/etcd/server/v3@$etcd"
  local bd ld p
  bd=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    ld="$ld -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.buildDate=$bd"
  done
  for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
    log "building $cmd (slow the first time)"
    go build -trimpath -ldflags "$ld" -o "$BIN/$cmd" "k8s.io/kubernetes/cmd/$cmd"
  done
  log "building etcd $etcd"
  go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3
  "$BIN/kube-apiserver" --version | grep -q "Kubernetes $K8S_VERSION" \
    || { log "error: kube-apiserver does not report $K8S_VERSION"; exit 1; }
  echo "$K8S_VERSION" > "$BIN/.stamp"
  echo "$etcd" > "$BIN/.etcd-version"
  log "built Kubernetes $K8S_VERSION and etcd $etcd in $((SECONDS - start))s"
}

build_kwok() {
  need go
  local start=$SECONDS
  mkdir -p "$KWOK_BIN"
  log "building kwok $KWOK_VERSION"
  CGO_ENABLED=0 GOBIN="$KWOK_BIN" GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  log "built kwok in $((SECONDS - start))s"
}

have_k8s || build_k8s
[ -x "$KWOK_BIN/kwok" ] || build_kwok
ln -sf "$KWOK_BIN/kwok" "$BIN/kwok"
echo "$BIN"
