#!/bin/sh
# Installs the Debian 12 packages Kankyo needs to build and test (only the
# missing ones, so a prepared machine needs no network), then configures and
# builds into _build. Run as root on a fresh machine, or as a user once the
# packages are there. Used by both Quick start commands and by CI.
set -eu

cd "$(dirname "$0")/.."

packages="
  build-essential meson ninja-build pkg-config gettext
  libglib2.0-dev libglib2.0-dev-bin libgtk-4-dev librsvg2-dev libsodium-dev
  libmodbus-dev libsqlite3-dev libyaml-dev libcairo2-dev libpango1.0-dev
  sqlite3 python3 python3-pymodbus python3-serial mbpoll socat
  xvfb xauth desktop-file-utils appstream clang-format poppler-utils xdotool
  fonts-ipafont-gothic locales
"

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing="$missing $p"
  fi
done

if [ -n "$missing" ]; then
  echo "Installing:$missing"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing and installing them needs root:$missing" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
fi

if [ -f _build/build.ninja ]; then
  meson setup --reconfigure _build >/dev/null
else
  meson setup _build
fi
ninja -C _build
