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

if find_postgres; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "PostgreSQL not found. Install Debian's package as root:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y postgresql" >&2
  echo "or point PG_BIN at a directory holding initdb and pg_ctl." >&2
  exit 1
fi

echo "PostgreSQL not found: installing Debian's postgresql package..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update >&2
apt-get install -y --no-install-recommends postgresql >&2
find_postgres || { echo "postgresql was installed but no initdb was found" >&2; exit 1; }
