#!/usr/bin/env bash
# Installs the example app's npm dependencies, refine-live-wasm from the
# tarball that `make npm` packs (../dist), the way a user installs it.
#
# The lock file records no integrity for that tarball (it changes with every
# build), so `npm ci` always unpacks the current one. This script reruns it
# whenever the tarball or the lock file changed since the last install.
set -euo pipefail

app="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tarball="$app/../dist/refine-live-wasm-0.1.0.tgz"

if [ ! -f "$tarball" ]; then
  echo "error: $tarball is missing: run 'make npm' in the repository root first" >&2
  exit 1
fi

stamp="$app/node_modules/.refine-live-wasm.stamp"
want="$(cat "$tarball" "$app/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

cd "$app"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
