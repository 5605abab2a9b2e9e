#!/bin/sh
# Fails when a language in po/LINGUAS is not complete: every message of the
# current template translated, none fuzzy, and msgfmt --check clean.
set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$srcdir"
xgettext --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
  --add-comments=Translators --files-from=po/POTFILES.in --output="$tmp/kankyo.pot" 2>/dev/null
status=0
for lang in $(cat po/LINGUAS); do
  msgmerge --quiet --no-fuzzy-matching "po/$lang.po" "$tmp/kankyo.pot" -o "$tmp/$lang.po"
  msgfmt --check --statistics -o /dev/null "$tmp/$lang.po" 2>"$tmp/stats" || status=1
  if grep -qE 'untranslated|fuzzy' "$tmp/stats"; then
    echo "po/$lang.po is incomplete: $(cat "$tmp/stats")" >&2
    status=1
  else
    echo "po/$lang.po: $(cat "$tmp/stats")"
  fi
done
exit $status
