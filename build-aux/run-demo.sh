#!/bin/sh
# Quick start 1: install what is missing, build, and open the operator screen
# on the embedded demo plant (simulated devices served as real Modbus TCP on
# 127.0.0.1 and polled by the engine). On a machine without a display the
# same engine runs headless and prints every change; stop it with Ctrl-C.
set -eu

cd "$(dirname "$0")/.."
build-aux/setup.sh

export KANKYO_DRIVER_PATH="$PWD/_build/drivers/modbus"
export KANKYO_PLUGIN_PATH="$PWD/_build/plugins/hvac:$PWD/_build/plugins/generic:$PWD/_build/plugins/testdev"
export GSETTINGS_SCHEMA_DIR="$PWD/_build/data"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec _build/ui/kankyo "$@"
fi
echo "No display: running the demo plant headless (kankyoctl run)." >&2
exec _build/app/kankyoctl run "$@"
