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

# shellcheck source=install-debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/install-debian.sh"
find_or_install find_chromium Chromium chromium "or point CHROME_PATH at an existing Chromium binary."
