#!/usr/bin/env bash
# Prints, one per line as NAME=PATH, what the browser tests need beyond
# Chromium: Firefox ESR, WebKitGTK's MiniBrowser with its WebDriver, and
# Xvfb (WebKitGTK needs an X display even when nothing is shown). When
# something is missing and we are root, installs Debian's packages;
# browsers are never downloaded any other way.
set -euo pipefail

MINIBROWSER=/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser

missing() {
  local pkgs=()
  [ -x /usr/bin/firefox-esr ] || pkgs+=(firefox-esr)
  { [ -x /usr/bin/WebKitWebDriver ] && [ -x "$MINIBROWSER" ]; } || pkgs+=(webkit2gtk-driver)
  [ -x /usr/bin/Xvfb ] || pkgs+=(xvfb)
  echo "${pkgs[@]:-}"
}

pkgs=$(missing)
if [ -n "$pkgs" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing for the Firefox and WebKit tests: $pkgs. Install Debian's packages as root:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y $pkgs" >&2
    exit 1
  fi
  echo "installing Debian's $pkgs for the Firefox and WebKit tests..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  # shellcheck disable=SC2086
  apt-get install -y $pkgs >&2
  pkgs=$(missing)
  [ -z "$pkgs" ] || { echo "installed, but still missing: $pkgs" >&2; exit 1; }
fi
echo "FIREFOX=/usr/bin/firefox-esr"
echo "WEBKITDRIVER=/usr/bin/WebKitWebDriver"
echo "MINIBROWSER=$MINIBROWSER"
echo "XVFB=/usr/bin/Xvfb"
