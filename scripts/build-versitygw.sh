#!/usr/bin/env bash
# Builds versitygw (an S3 server over a local directory: real SigV4 auth, buckets, objects) from
# the Go module proxy and caches it by version under $WEIR_CACHE_DIR (default ~/.cache/weir),
# outside git. Only the tests use it (weir/testing/s3.py), for Bucket sources.
# `make tools` (and so `make test`) runs this; a run with the cache present is silent and instant.
#
# Usage: scripts/build-versitygw.sh   (prints the path of the binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

CACHE=${WEIR_CACHE_DIR:-$HOME/.cache/weir}
BIN="$CACHE/versitygw/$VERSITYGW_VERSION/bin"
log() { printf '[build-versitygw] %s\n' "$*" >&2; }

if [ ! -x "$BIN/versitygw" ]; then
  command -v go >/dev/null 2>&1 || { log "error: 'go' is not installed; install Go >= 1.26 and re-run"; exit 2; }
  start=$SECONDS
  mkdir -p "$BIN"
  log "building versitygw $VERSITYGW_VERSION (about a minute the first time)"
  tmp=$(mktemp -d "$BIN/.build.XXXXXX")
  CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" \
    "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
  mv "$tmp/versitygw" "$BIN/versitygw"
  rmdir "$tmp"
  log "built versitygw in $((SECONDS - start))s"
fi
echo "$BIN/versitygw"
