#!/usr/bin/env bash
# Extracts Debian's docker-registry (CNCF Distribution v2) into $WEIR_CACHE_DIR/registry/<version>/
# for the OCI tests (weir/testing/ociregistry.py). The package is downloaded and unpacked with
# dpkg-deb -x, never installed: installing it would start a daemon listening on :5000.
# Prints the path of the binary. Safe to run again: a cached binary is reused.
set -euo pipefail
log() { printf '[install-registry] %s\n' "$*" >&2; }

CACHE=${WEIR_CACHE_DIR:-$HOME/.cache/weir}
ROOT="$CACHE/registry"
PKG=docker-registry

existing=$(ls -1d "$ROOT"/*/usr/bin/docker-registry 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -n "$existing" && -x "$existing" ]]; then
  echo "$existing"
  exit 0
fi

command -v apt-get >/dev/null || { log "apt-get not found: this script needs a Debian-based system"; exit 1; }
version=$(apt-cache policy "$PKG" 2>/dev/null | awk '/Candidate:/ {print $2}')
if [[ -z "$version" || "$version" == "(none)" ]]; then
  log "package lists do not know $PKG: running apt-get update"
  apt-get update -qq >&2
  version=$(apt-cache policy "$PKG" | awk '/Candidate:/ {print $2}')
fi
[[ -n "$version" && "$version" != "(none)" ]] || { log "no $PKG package available"; exit 1; }

work=$(mktemp -d)
chmod 755 "$work"  # apt-get download runs as _apt
trap 'rm -rf "$work"' EXIT
log "downloading $PKG $version (not installing it)"
(cd "$work" && apt-get download -qq "$PKG=$version" >&2) || {
  log "download failed: refreshing the package lists and retrying"
  apt-get update -qq >&2
  (cd "$work" && apt-get download -qq "$PKG" >&2)
}
deb=$(ls "$work"/*.deb)
safe_version=${version//[^A-Za-z0-9.+~-]/_}
dest="$ROOT/$safe_version"
mkdir -p "$dest.tmp"
dpkg-deb -x "$deb" "$dest.tmp"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
[[ -x "$dest/usr/bin/docker-registry" ]] || { log "the package holds no usr/bin/docker-registry"; exit 1; }
log "installed $dest/usr/bin/docker-registry"
echo "$dest/usr/bin/docker-registry"
