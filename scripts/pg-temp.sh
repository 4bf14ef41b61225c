#!/usr/bin/env bash
# A throwaway PostgreSQL for demos and browser tests: a fresh data
# directory with wal_level=logical, trust authentication on 127.0.0.1, run
# as the postgres user when we are root (PostgreSQL refuses root).
#
#   scripts/pg-temp.sh start PORT   # prints the data directory, then the URL
#   scripts/pg-temp.sh stop DIR     # stops the server and removes DIR
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$(bash "$here/ensure-postgres.sh")"

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "${1:-}" in
start)
  port="${2:?usage: pg-temp.sh start PORT}"
  dir="$(mktemp -d /tmp/refine-live-pg.XXXXXX)"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/data'
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
CONF
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 start >/dev/null ||
    { cat "$dir/data/server.log" >&2; exit 1; }
  echo "$dir"
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
stop)
  dir="${2:?usage: pg-temp.sh stop DIR}"
  as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: pg-temp.sh start PORT | stop DIR" >&2
  exit 2
  ;;
esac
