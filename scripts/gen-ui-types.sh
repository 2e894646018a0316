#!/usr/bin/env bash
# Generates ui/src/generated/api-types.ts from the pydantic models of the JSON API
# (weir/web/schema.py) with json-schema-to-typescript. Run by scripts/build-ui.sh (make ui);
# tests/e2e/test_ui_types.py checks that the committed file is current.
# Usage: scripts/gen-ui-types.sh [output file]   (default: ui/src/generated/api-types.ts)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-ui/src/generated/api-types.ts}
PY=${PY:-.venv/bin/python}
mkdir -p "$(dirname "$OUT")"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$PY" -m weir.web.schema > "$tmp"
ui/node_modules/.bin/json2ts --input "$tmp" --output "$OUT" --no-additionalProperties \
  --bannerComment "// Generated from weir/web/schema.py by scripts/gen-ui-types.sh: do not edit." \
  --unreachableDefinitions --style.printWidth 100
