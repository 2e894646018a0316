#!/usr/bin/env bash
# `make up`: the etherwurst fleet (examples/etherwurst) running end to end on a local control
# plane with kwok nodes, synced by weir from a loopback Git server, with the web UI and the MCP
# server. Ctrl-C (or `make down` from another terminal) stops everything it started.
# The orchestration is Python: weir/demo (`python -m weir.demo up --help` for its options).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x scripts/build-ui.sh ]; then
  scripts/build-ui.sh || echo "[up] the web UI bundle could not be built; continuing without it" >&2
fi
exec .venv/bin/python -m weir.demo up "$@"
