#!/usr/bin/env bash
# Builds the Helm CLI from its Go module (helm.sh/helm/v4) and caches it by version under
# $WEIR_CACHE_DIR (default ~/.cache/weir), outside git. weir itself runs Helm in process
# (helm-python-sdk, ADR 0002); the CLI is what a *user* types to install weir's chart, so the
# tests run `helm lint`, `helm package`, `helm push` and `helm install oci://...` with it.
# `make tools` (and so `make test`) runs this.
#
# Usage: scripts/build-helm.sh   (prints the path of the binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

CACHE=${WEIR_CACHE_DIR:-$HOME/.cache/weir}
BIN="$CACHE/helm/$HELM_VERSION/bin"
log() { printf '[build-helm] %s\n' "$*" >&2; }

if [ ! -x "$BIN/helm" ]; then
  command -v go >/dev/null 2>&1 || { log "error: 'go' is not installed; install Go >= 1.26 and re-run"; exit 2; }
  start=$SECONDS
  mkdir -p "$BIN"
  log "building helm $HELM_VERSION (a few minutes the first time)"
  version_pkg=helm.sh/helm/v4/internal/version
  CGO_ENABLED=0 GOBIN="$BIN" GOFLAGS=-mod=mod go install -trimpath \
    -ldflags "-s -w -X $version_pkg.version=$HELM_VERSION" \
    "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
  log "built helm in $((SECONDS - start))s"
fi
echo "$BIN/helm"
