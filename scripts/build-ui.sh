#!/usr/bin/env bash
# Builds the web UI (ui/, TypeScript + Vite) into the Python package: weir/web/static (git-ignored).
# Installs ui/node_modules with `npm ci` when missing, and skips the build when the bundle is
# newer than every source file. Needs Node.js >= 20.19 and npm. `--force` rebuilds anyway.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[build-ui] %s\n' "$*" >&2; }

UI=ui
OUT=weir/web/static
STAMP="$OUT/index.html"

if [ "${1:-}" != "--force" ] && [ -f "$STAMP" ]; then
  newer=$(find "$UI/src" "$UI/index.html" "$UI/package.json" "$UI/package-lock.json" \
    "$UI/vite.config.ts" "$UI/tsconfig.json" weir/web/schema.py -newer "$STAMP" -print -quit)
  if [ -z "$newer" ]; then
    exit 0
  fi
fi
if ! command -v npm >/dev/null 2>&1; then
  log "npm not found: install Node.js >= 20.19 (with npm) to build the UI"
  exit 1
fi
if [ ! -d "$UI/node_modules" ] || [ "$UI/package-lock.json" -nt "$UI/node_modules/.package-lock.json" ]; then
  log "installing UI dependencies (npm ci)"
  (cd "$UI" && npm ci --no-audit --no-fund --loglevel=error)
fi
log "generating the API types (ui/src/generated/api-types.ts)"
scripts/gen-ui-types.sh
log "building the UI into $OUT"
(cd "$UI" && npm run --silent build) >&2
touch "$STAMP"
