#!/usr/bin/env bash
# `make up`: starts the local control plane with kwok nodes and keeps it running until Ctrl-C,
# then stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
WEIR=.venv/bin/weir
NODES=${WEIR_NODES:-3}
cleanup() { echo; "$WEIR" cluster down || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
"$WEIR" cluster up --nodes "$NODES"
KUBECONFIG_PATH=$("$WEIR" cluster kubeconfig)
echo
echo "The control plane is up. In another terminal:"
echo "  export KUBECONFIG=$KUBECONFIG_PATH"
echo "  .venv/bin/kubectl get nodes"
echo "Press Ctrl-C to stop it."
while "$WEIR" cluster status >/dev/null 2>&1; do sleep 5; done
echo "the control plane stopped unexpectedly; see .weir/cluster/logs/" >&2
exit 1
