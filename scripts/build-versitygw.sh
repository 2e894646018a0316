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
# shellcheck source=lib.sh
source "$here/lib.sh"

go_install_cached versitygw "$VERSITYGW_VERSION" github.com/versity/versitygw/cmd/versitygw "about a minute"
