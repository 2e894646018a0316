#!/usr/bin/env bash
# Builds the standalone kustomize CLI (sigs.k8s.io/kustomize/kustomize/v5) from the Go module
# proxy and caches it by version under $WEIR_CACHE_DIR (default ~/.cache/weir), outside git.
# weir builds every Kustomization with it (weir/kustomize/engine.py, ADR 0016): it is the same
# kustomize as kubectl's embedded one, without kubectl's start-up (a third of the memory and a
# quarter of the CPU per build). `make setup` (and so `make test` and `make up`) runs this;
# the Containerfile builds the same version into the image.
#
# Usage: scripts/build-kustomize.sh   (prints the path of the binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

CACHE=${WEIR_CACHE_DIR:-$HOME/.cache/weir}
BIN="$CACHE/kustomize/$KUSTOMIZE_VERSION/bin"
log() { printf '[build-kustomize] %s\n' "$*" >&2; }

if [ ! -x "$BIN/kustomize" ]; then
  command -v go >/dev/null 2>&1 || { log "error: 'go' is not installed; install Go >= 1.26 and re-run"; exit 2; }
  start=$SECONDS
  mkdir -p "$BIN"
  log "building kustomize $KUSTOMIZE_VERSION (under a minute the first time)"
  # A static binary (CGO off): the build sandbox lets kustomize execute only its own file.
  # GOBIN gets the binary only once it is complete, so a failed build leaves nothing behind.
  CGO_ENABLED=0 GOBIN="$BIN" GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
  got=$("$BIN/kustomize" version)
  if [ "$got" != "$KUSTOMIZE_VERSION" ]; then
    rm -f "$BIN/kustomize"
    log "error: the binary reports '$got', not $KUSTOMIZE_VERSION"
    exit 1
  fi
  log "built kustomize in $((SECONDS - start))s"
fi
echo "$BIN/kustomize"
