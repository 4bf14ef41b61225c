#!/usr/bin/env bash
# Prints the bin directory of a PostgreSQL server (initdb, pg_ctl, postgres)
# for the tests of the PostgreSQL change source. When none is found and we
# are root, installs Debian's `postgresql` package.
set -euo pipefail

find_postgres() {
  local dir
  if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then
    echo "$PG_BIN"
    return 0
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

# shellcheck source=install-debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/install-debian.sh"
find_or_install find_postgres PostgreSQL postgresql "or point PG_BIN at a directory holding initdb and pg_ctl."
