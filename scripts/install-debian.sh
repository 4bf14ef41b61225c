# Sourced by the ensure-*.sh scripts:
#   find_or_install FIND WHAT PACKAGE ALTERNATIVE
# runs the search FIND, which prints what it found; when it finds nothing,
# install_debian WHAT PACKAGE ALTERNATIVE explains how to install Debian's
# PACKAGE and exits when we are not root (ALTERNATIVE is the other way out,
# shown last), and installs it when we are, then FIND runs again. Nothing is
# ever downloaded any other way.

find_or_install() {
  local find=$1 what=$2 package=$3 alternative=$4
  if "$find"; then
    return 0
  fi
  install_debian "$what" "$package" "$alternative"
  "$find" || { echo "$package was installed but $what was still not found" >&2; exit 1; }
}

install_debian() {
  local what=$1 package=$2 alternative=$3
  if [ "$(id -u)" -ne 0 ]; then
    echo "$what not found. Install Debian's package as root:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y $package" >&2
    echo "$alternative" >&2
    exit 1
  fi
  echo "$what not found: installing Debian's $package package..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends "$package" >&2
}
