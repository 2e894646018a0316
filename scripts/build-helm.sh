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
# shellcheck source=lib.sh
source "$here/lib.sh"

go_install_cached helm "$HELM_VERSION" helm.sh/helm/v4/cmd/helm "a few minutes" \
  "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"
