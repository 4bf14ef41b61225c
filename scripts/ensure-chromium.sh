#!/usr/bin/env bash
# Prints the path of a Chromium for the browser tests. When none is found
# and we are root, installs Debian's `chromium` package; browsers are never
# downloaded any other way.
set -euo pipefail

find_chromium() {
  local candidate
  for candidate in "${CHROME_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  for candidate in chromium chromium-browser; do
    if command -v "$candidate" >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if find_chromium; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "Chromium not found. Install Debian's package as root:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y chromium" >&2
  echo "or point CHROME_PATH at an existing Chromium binary." >&2
  exit 1
fi

echo "Chromium not found: installing Debian's chromium package..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update >&2
apt-get install -y --no-install-recommends chromium >&2
find_chromium || { echo "chromium was installed but no binary was found" >&2; exit 1; }
