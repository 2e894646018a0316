#!/usr/bin/env bash
# Builds Prometheus Alertmanager (a real receiver for the `alertmanager` notification provider)
# from the Go module proxy and caches it by version under $WEIR_CACHE_DIR (default ~/.cache/weir),
# outside git. Only the tests use it (weir/testing/alertmanager.py). Up to v0.31 the web UI is
# generated Go code inside the module, so the module builds as published and nothing else is
# needed at run time (see the note on ALERTMANAGER_VERSION in versions.env).
# `make tools` (and so `make test`) runs this; a run with the cache present is silent and instant.
#
# Usage: scripts/build-alertmanager.sh   (prints the path of the binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

CACHE=${WEIR_CACHE_DIR:-$HOME/.cache/weir}
BIN="$CACHE/alertmanager/$ALERTMANAGER_VERSION/bin"
log() { printf '[build-alertmanager] %s\n' "$*" >&2; }

if [ ! -x "$BIN/alertmanager" ]; then
  command -v go >/dev/null 2>&1 || { log "error: 'go' is not installed; install Go >= 1.26 and re-run"; exit 2; }
  start=$SECONDS
  mkdir -p "$BIN"
  log "building alertmanager $ALERTMANAGER_VERSION (about a minute the first time)"
  tmp=$(mktemp -d "$BIN/.build.XXXXXX")
  CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" \
    "github.com/prometheus/alertmanager/cmd/alertmanager@$ALERTMANAGER_VERSION"
  mv "$tmp/alertmanager" "$BIN/alertmanager"
  rmdir "$tmp"
  log "built alertmanager in $((SECONDS - start))s"
fi
echo "$BIN/alertmanager"
