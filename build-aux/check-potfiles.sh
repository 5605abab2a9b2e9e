#!/bin/sh
# Fails when a source file marks strings for translation but is missing from
# po/POTFILES.in, or when POTFILES.in names a file that does not exist.
set -eu

cd "$(dirname "$0")/.."
status=0
for f in $(grep -rlE '(^|[^a-zA-Z0-9_])(N?_|C_|NC_) ?\(|translatable="yes"' app plugins drivers recipes ui data \
             --include='*.c' --include='*.ui' --include='*.xml' --include='*.in' 2>/dev/null); do
  if ! grep -qxF "$f" po/POTFILES.in; then
    echo "po/POTFILES.in is missing $f" >&2
    status=1
  fi
done
for f in $(grep -v '^#' po/POTFILES.in | grep -v '^$'); do
  if [ ! -f "$f" ]; then
    echo "po/POTFILES.in names $f, which does not exist" >&2
    status=1
  fi
done
exit $status
