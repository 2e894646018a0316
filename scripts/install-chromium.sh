#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (Playwright drives it through its
# executable path; Playwright's own browser downloads are never used). Idempotent: does nothing
# when /usr/bin/chromium (or $WEIR_CHROMIUM) is there.
set -euo pipefail
log() { printf '[install-chromium] %s\n' "$*" >&2; }

CHROMIUM="${WEIR_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  log "no $CHROMIUM and no apt-get: install Chromium and set WEIR_CHROMIUM to its path"
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
log "installing chromium from the Debian archive"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
"$CHROMIUM" --version >&2
