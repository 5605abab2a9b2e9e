#!/bin/sh
# Runs a UI test on a private X server: xvfb-run picks a free display (-a),
# so tests run in parallel and on machines without a display, as CI is.
set -eu
exec xvfb-run -a -s "-screen 0 1600x1000x24 -nolisten tcp" "$@"
