#!/usr/bin/env bash
# Builds Gitea (a real forge: pull requests, branches, tags, labels, tokens, webhooks, commit
# statuses and an OAuth2/OIDC provider) from the Go module proxy and caches it by version under
# $WEIR_CACHE_DIR (default ~/.cache/weir), outside git. Only the tests use it (weir/testing/gitea.py).
# `make tools` (and so `make test`) runs this; a run with the cache present is silent and instant.
#
# Layout of the cache ($WEIR_CACHE_DIR/gitea/$GITEA_VERSION):
#   bin/gitea   the binary (sqlite built in, so cgo and a C compiler are needed)
#   share/      templates/, options/ (locales, label sets, licences) and public/, copied from the
#               module: a build without the `bindata` tag reads them at run time from
#               STATIC_ROOT_PATH, so the fixture points it here (not at the Go module cache,
#               which `go clean -modcache` may empty).
#
# Usage: scripts/build-gitea.sh   (prints the path of the binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

CACHE=${WEIR_CACHE_DIR:-$HOME/.cache/weir}
DIR="$CACHE/gitea/$GITEA_VERSION"
BIN="$DIR/bin"
log() { printf '[build-gitea] %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { log "error: '$1' is not installed; $2"; exit 2; }; }

have() {
  [ -x "$BIN/gitea" ] && compgen -G "$DIR/share/options/locale/locale_en-US.*" >/dev/null \
    && [ -d "$DIR/share/templates" ] && [ "$(cat "$DIR/.stamp" 2>/dev/null)" = "$GITEA_VERSION" ]
}

build() {
  need go "install Go >= 1.26 and re-run"
  need gcc "Gitea's sqlite driver needs cgo: install a C compiler (apt-get install gcc) and re-run"
  local start=$SECONDS src="$DIR/src" mod="code.gitea.io/gitea@$GITEA_VERSION"
  export GOFLAGS=-mod=mod
  rm -f "$DIR/.stamp"
  mkdir -p "$src" "$BIN"
  cd "$src"
  [ -f go.mod ] || go mod init local.weir/giteabin >/dev/null 2>&1
  log "downloading $mod (a few minutes in all the first time: about four on an idle 2-core machine)"
  local info gomod moddir
  info=$(go mod download -json "$mod")
  gomod=$(python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])' <<<"$info")
  moddir=$(python3 -c 'import json,sys;print(json.load(sys.stdin)["Dir"])' <<<"$info")
  # Gitea's go.mod replaces some dependencies with forks; a wrapper module needs the same
  # replaces (and excludes) or it resolves the upstream modules, which do not compile with it.
  local edits
  edits=$(go mod edit -json "$gomod" | python3 -c '
import json, sys
m = json.load(sys.stdin)
def ref(p):
    return p["Path"] + ("@" + p["Version"] if p.get("Version") else "")
for r in m.get("Replace") or []:
    print("-replace=" + ref(r["Old"]) + "=" + ref(r["New"]))
for e in m.get("Exclude") or []:
    print("-exclude=" + e["Path"] + "@" + e["Version"])
')
  if [ -n "$edits" ]; then
    # shellcheck disable=SC2086  # one argument per line, none contains spaces
    go mod edit $edits
  fi
  log "resolving Gitea's dependencies"
  go get "$mod" >"$src/go-get.log" 2>&1 || { cat "$src/go-get.log" >&2; exit 1; }
  log "compiling gitea $GITEA_VERSION (cgo, sqlite)"
  CGO_ENABLED=1 go build -tags 'sqlite sqlite_unlock_notify' -trimpath \
    -ldflags "-s -w -X main.Version=${GITEA_VERSION#v} -X 'main.Tags=sqlite sqlite_unlock_notify'" \
    -o "$BIN/gitea.tmp" code.gitea.io/gitea
  mv "$BIN/gitea.tmp" "$BIN/gitea"
  rm -rf "$DIR/share"
  mkdir -p "$DIR/share"
  for d in templates options public; do
    cp -R "$moddir/$d" "$DIR/share/$d"
  done
  chmod -R u+w "$DIR/share"   # the module cache is read-only; the copy need not be
  "$BIN/gitea" --version | grep -q "${GITEA_VERSION#v}" \
    || { log "error: $BIN/gitea does not report version $GITEA_VERSION"; exit 1; }
  echo "$GITEA_VERSION" > "$DIR/.stamp"
  log "built gitea $GITEA_VERSION in $((SECONDS - start))s"
}

have || build
echo "$BIN/gitea"
