#!/usr/bin/env bash
# The GitHub Action's install steps (action.yml), runnable anywhere.
#   install.sh key     print the cache key of netrepro's sources beside this
#                      script (key=netrepro-<sha256>), also to $GITHUB_OUTPUT
#   install.sh build   build netrepro from those sources into
#                      $NETREPRO_ROOT/bin (cargo install --locked --path),
#                      unless a restored cache already put it there; print
#                      bin=<path>, also to $GITHUB_OUTPUT
# NETREPRO_ROOT defaults to ~/.netrepro-action (the action caches that
# folder). Needs cargo on PATH (GitHub's hosted runners have it).
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
root="${NETREPRO_ROOT:-$HOME/.netrepro-action}"
exe=netrepro
case "$(uname -s)" in MINGW* | MSYS* | CYGWIN*) exe=netrepro.exe ;; esac

out() {
  echo "$1"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1" >> "$GITHUB_OUTPUT"; fi
}

sha256() {
  if command -v sha256sum > /dev/null 2>&1; then sha256sum; else shasum -a 256; fi
}

case "${1:-}" in
  key)
    # What the binary is built from: manifests, lock file, build script and
    # the library and binary sources (not tests, fixtures or docs). File
    # names are hashed with the contents, so a rename changes the key too.
    cd "$src"
    hash="$(find Cargo.toml Cargo.lock harness -type f \
              \( -name '*.rs' -o -name Cargo.toml -o -name Cargo.lock \) \
              -not -path 'harness/tests/*' -not -path '*/target/*' \
            | LC_ALL=C sort \
            | while IFS= read -r f; do printf '%s\n' "$f"; sha256 < "$f"; done \
            | sha256 | cut -c1-32)"
    out "key=netrepro-$hash"
    ;;
  build)
    if [ ! -x "$root/bin/$exe" ]; then
      cargo install --locked --path "$src/harness" --root "$root"
    fi
    "$root/bin/$exe" --version
    out "bin=$root/bin/$exe"
    ;;
  *)
    echo "usage: $0 key|build" >&2
    exit 2
    ;;
esac
