#!/usr/bin/env bash
# Builds the sops CLI from the Go module proxy and caches it by version under $WEIR_CACHE_DIR
# (default ~/.cache/weir), outside git. Only the tests use it: they encrypt fixtures with the
# real sops, the way users do, and check that weir decrypts them. `make test` runs this.
#
# Usage: scripts/build-sops.sh   (prints the path of the binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

CACHE=${WEIR_CACHE_DIR:-$HOME/.cache/weir}
BIN="$CACHE/sops/$SOPS_VERSION/bin"
log() { printf '[build-sops] %s\n' "$*" >&2; }

if [ ! -x "$BIN/sops" ]; then
  command -v go >/dev/null 2>&1 || { log "error: 'go' is not installed; install Go >= 1.26 and re-run"; exit 2; }
  start=$SECONDS
  mkdir -p "$BIN"
  log "building sops $SOPS_VERSION (about two minutes the first time)"
  CGO_ENABLED=0 GOBIN="$BIN" GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" \
    "github.com/getsops/sops/v3/cmd/sops@$SOPS_VERSION"
  log "built sops in $((SECONDS - start))s"
fi
echo "$BIN/sops"
