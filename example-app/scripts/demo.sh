#!/usr/bin/env bash
# Builds the example app and its Go backend, then serves both on one port.
#
#   PORT=9000 example-app/scripts/demo.sh
#
# PORT (default 8080) and HOST (default 127.0.0.1) choose the address;
# SKIP_PACK=1 reuses ../dist/refine-live-wasm-0.1.0.tgz instead of running
# `make npm` first.
set -euo pipefail

app="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$app/.." && pwd)"
PORT="${PORT:-8080}"
HOST="${HOST:-127.0.0.1}"

if [ "${SKIP_PACK:-0}" != 1 ]; then
  make -C "$root" --no-print-directory npm
fi
"$app/scripts/install.sh"
(cd "$app" && npm run --silent build -- --logLevel warn)
mkdir -p "$app/bin"
(cd "$root" && go build -o "$app/bin/server" ./example-app/server)

echo
echo "  refine-live-wasm example app: http://$HOST:$PORT"
echo "  Open it in two windows: edits in one appear in the other. Ctrl-C stops it."
echo
exec "$app/bin/server" --addr "$HOST:$PORT" --dist "$app/dist"
