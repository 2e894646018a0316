# shellcheck shell=bash
# Shared by the scripts/build-*.sh that build one static Go binary from the Go module proxy and
# cache it by version under $WEIR_CACHE_DIR (default ~/.cache/weir), outside git. Source it after
# versions.env; a run with the binary cached is silent and instant.

CACHE=${WEIR_CACHE_DIR:-$HOME/.cache/weir}

# go_install_cached NAME VERSION PACKAGE DURATION [LDFLAGS]
#   Builds PACKAGE@VERSION (a main package whose binary is NAME) with cgo off, unless
#   $CACHE/NAME/VERSION/bin/NAME is there, and prints that path. DURATION says how long a first
#   build takes (for the progress line); LDFLAGS are added to "-s -w". The binary lands in place
#   only once it is complete, so a failed build leaves nothing a later run would take for done.
go_install_cached() {
  local name=$1 version=$2 package=$3 duration=$4 ldflags="-s -w${5:+ $5}"
  local bin="$CACHE/$name/$version/bin"
  if [ ! -x "$bin/$name" ]; then
    if ! command -v go >/dev/null 2>&1; then
      printf '[build-%s] error: %s\n' "$name" "'go' is not installed; install Go >= 1.26 and re-run" >&2
      exit 2
    fi
    local start=$SECONDS tmp
    mkdir -p "$bin"
    printf '[build-%s] building %s %s (%s the first time)\n' "$name" "$name" "$version" "$duration" >&2
    tmp=$(mktemp -d "$bin/.build.XXXXXX")
    if ! CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-mod=mod go install -trimpath -ldflags "$ldflags" \
      "$package@$version"; then
      rm -rf "$tmp"
      printf '[build-%s] error: go install %s@%s failed (output above)\n' "$name" "$package" "$version" >&2
      exit 1
    fi
    mv "$tmp/$name" "$bin/$name"
    rmdir "$tmp"
    printf '[build-%s] built %s in %ss\n' "$name" "$name" "$((SECONDS - start))" >&2
  fi
  echo "$bin/$name"
}
