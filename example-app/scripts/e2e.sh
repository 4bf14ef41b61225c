#!/usr/bin/env bash
# Runs the end-to-end suite from scratch: packs the npm package, installs
# the app's dependencies from it, builds the app and the Go backend, finds
# (or, as root, installs) Debian's Chromium, Firefox and WebKit, and runs
# `node --test`: the whole suite in Chromium, then in Firefox and WebKit
# (the key scenarios, or everything with E2E_ALL_ENGINES=1).
#
# SKIP_PACK=1 reuses ../dist/refine-live-wasm-0.1.0.tgz instead of running
# `make npm`. Extra arguments go to node --test (e.g. --test-name-pattern=offline).
set -euo pipefail

app="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$app/.." && pwd)"

if [ "${SKIP_PACK:-0}" != 1 ]; then
  make -C "$root" --no-print-directory npm
fi
"$app/scripts/install.sh"
CHROME_PATH="$(bash "$root/scripts/ensure-chromium.sh")"
export CHROME_PATH
(cd "$app" && npm run --silent build -- --logLevel warn)

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
(cd "$root" && go build -o "$bin/server" ./example-app/server)

# The drivers of the other engines are the npm package's test tooling.
[ -d "$root/npm/test/node_modules/selenium-webdriver" ] || (cd "$root/npm/test" && npm ci --no-audit --no-fund --loglevel=error)
bash "$root/scripts/ensure-browsers.sh" >/dev/null

cd "$app"
export E2E_SERVER_BIN="$bin/server"
node --test --test-concurrency=1 --test-timeout=180000 "$@" e2e/*.test.js
# Then in Firefox and WebKit: with E2E_ALL_ENGINES=1 (make test-browsers)
# the whole suite, otherwise its key scenarios (live update, StrictMode,
# recovery after a drop, resync after a restart, offline).
key=(
  --test-name-pattern="^auto: create, update and delete"
  --test-name-pattern="^StrictMode: "
  --test-name-pattern="^network drop, server up"
  --test-name-pattern="^backend restart: "
  --test-name-pattern="^offline then online: "
)
[ "${E2E_ALL_ENGINES:-0}" = 1 ] && key=()
for engine in firefox webkit; do
  BROWSER_ENGINE=$engine node --test --test-concurrency=1 --test-timeout=180000 "${key[@]}" "$@" e2e/*.test.js
done
