#!/bin/sh
# Fails when a C file does not match .clang-format; prints what to run.
set -eu

cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find app plugins drivers recipes ui tests -name '*.[ch]')
if ! clang-format --dry-run -Werror $files 2>/tmp/kankyo-format.$$; then
  head -40 /tmp/kankyo-format.$$ >&2
  rm -f /tmp/kankyo-format.$$
  echo "Formatting differs from .clang-format; run: clang-format -i \$(git ls-files '*.c' '*.h')" >&2
  exit 1
fi
rm -f /tmp/kankyo-format.$$
echo "format: ok"
