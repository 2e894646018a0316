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
# shellcheck source=lib.sh
source "$here/lib.sh"

go_install_cached sops "$SOPS_VERSION" github.com/getsops/sops/v3/cmd/sops "about two minutes"
