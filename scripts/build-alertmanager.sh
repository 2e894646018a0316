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
# shellcheck source=lib.sh
source "$here/lib.sh"

go_install_cached alertmanager "$ALERTMANAGER_VERSION" github.com/prometheus/alertmanager/cmd/alertmanager "about a minute"
