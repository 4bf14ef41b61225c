#!/usr/bin/env bash
# The example app on PostgreSQL, with no publish call in the backend: a
# throwaway PostgreSQL (Debian's package, installed when missing and we are
# root) holds the posts, and every committed change, made in the app or
# with psql, reaches the open lists through logical replication.
#
#   PG_PORT=55432 PORT=8080 example-app/scripts/demo-postgres.sh
#
# PG_PORT (default 55432) is PostgreSQL's port; PORT, HOST and SKIP_PACK
# are those of demo.sh. Ctrl-C stops both and removes the database.
set -euo pipefail

app="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$app/.." && pwd)"
PG_PORT="${PG_PORT:-55432}"

out="$(bash "$root/scripts/pg-temp.sh" start "$PG_PORT")"
dir="$(echo "$out" | sed -n 1p)"
url="$(echo "$out" | sed -n 2p)"
trap 'bash "$root/scripts/pg-temp.sh" stop "$dir"' EXIT

psql="$(command -v psql || echo "$(bash "$root/scripts/ensure-postgres.sh")/psql")"
echo
echo "  PostgreSQL: $url"
echo "  Change a row and watch the open list:"
echo "    $psql '$url' -c \"UPDATE posts SET title = 'Edited with psql' WHERE id = 1\""
echo
REFINE_LIVE_POSTGRES="$url" bash "$app/scripts/demo.sh"
