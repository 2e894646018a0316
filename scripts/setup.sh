#!/usr/bin/env bash
# Installs what weir's tests and `make up` need and is missing: uv, the locked Python
# environment (.venv), the Go-built Kubernetes binaries and the kustomize CLI weir builds with. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*" >&2; }

UV_VERSION=0.13.9
if ! command -v uv >/dev/null 2>&1; then
  log "installing uv $UV_VERSION from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
export UV_SYSTEM_CERTS=1
uv sync --frozen --quiet
scripts/build-k8s-binaries.sh >/dev/null
scripts/build-kustomize.sh >/dev/null
scripts/install-registry.sh >/dev/null
