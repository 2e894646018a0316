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
# shellcheck source=lib.sh
source "$here/lib.sh"

# A static binary (cgo off): the build sandbox lets kustomize execute only its own file.
path=$(go_install_cached kustomize "$KUSTOMIZE_VERSION" sigs.k8s.io/kustomize/kustomize/v5 \
  "under a minute")
got=$("$path" version)
if [ "$got" != "$KUSTOMIZE_VERSION" ]; then
  rm -f "$path"
  printf '[build-kustomize] error: the binary reports %s, not %s; re-run to rebuild it\n' \
    "'$got'" "$KUSTOMIZE_VERSION" >&2
  exit 1
fi
echo "$path"
