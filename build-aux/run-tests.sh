#!/bin/sh
# Quick start 2: install what is missing, build, check the formatting, and
# run every test suite (unit, interop, slow). Exits non-zero on any failure.
set -eu

cd "$(dirname "$0")/.."
build-aux/setup.sh

build-aux/check-format.sh
meson test -C _build --print-errorlogs --num-processes 2 "$@"
