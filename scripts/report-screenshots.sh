#!/usr/bin/env bash
# Renders report pages in headless Chromium and saves PNG screenshots, to look at the
# report as a person would (charts visible, labels legible, nothing overlapping).
#
#   scripts/report-screenshots.sh REPORT_DIR [OUT_DIR] [PAGE...]
#
# REPORT_DIR is a directory written by `zbench report` (or by `zbench all`, in
# report/ beside results.json). PAGEs default to index.html and the first group page.
# Screenshots go to OUT_DIR (default REPORT_DIR/screenshots), one PNG per page, 1280 px
# wide and tall enough for the whole page (--height to change: SHOT_HEIGHT=6000).
# Needs Debian's chromium (apt-get install chromium); exits 1 with a message without it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=chromium-flags.sh
. "$here/chromium-flags.sh"

[ $# -ge 1 ] || { echo "usage: $0 REPORT_DIR [OUT_DIR] [PAGE...]" >&2; exit 2; }
dir="$(cd "$1" && pwd)" || { echo "no such report directory: $1" >&2; exit 1; }
out="${2:-$dir/screenshots}"
shift $(( $# >= 2 ? 2 : 1 ))
[ -f "$dir/index.html" ] || { echo "$dir has no index.html: not a report directory" >&2; exit 1; }
[ -n "$CHROMIUM" ] || { echo "chromium not found (Debian: apt-get install chromium)" >&2; exit 1; }

pages=("$@")
if [ ${#pages[@]} -eq 0 ]; then
  pages=(index.html)
  first_group=$(cd "$dir" && ls group-*.html 2>/dev/null | head -n 1 || true)
  [ -n "$first_group" ] && pages+=("$first_group")
fi
mkdir -p "$out"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
for page in "${pages[@]}"; do
  [ -f "$dir/$page" ] || { echo "no page $page in $dir" >&2; exit 1; }
  png="$out/${page%.html}.png"
  timeout 120 "$CHROMIUM" "${chromium_flags[@]}" --user-data-dir="$profile" \
    --window-size=1280,"${SHOT_HEIGHT:-4000}" --screenshot="$png" "file://$dir/$page" \
    >/dev/null 2>&1
  [ -s "$png" ] || { echo "chromium wrote no screenshot of $page" >&2; exit 1; }
  echo "$png"
done
