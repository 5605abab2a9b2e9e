#!/bin/sh
# Quick start 1: install what is missing, build, and run the embedded demo
# plant (simulated devices served as real Modbus TCP on 127.0.0.1 and polled
# by the engine). Stop with Ctrl-C.
set -eu

cd "$(dirname "$0")/.."
build-aux/setup.sh

export KANKYO_DRIVER_PATH="$PWD/_build/drivers/modbus"
export KANKYO_PLUGIN_PATH="$PWD/_build/plugins/testdev:$PWD/_build/plugins/generic:$PWD/_build/plugins/hvac"
exec _build/app/kankyoctl run "$@"
