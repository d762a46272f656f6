#!/bin/sh
# The README's two images, taken from a built site (make report first):
# a chapter page as headless Chromium shows it at 1280x900, and one figure as
# kiln drew it. They live here, beside the browser tests, rather than in
# templates/ (which every build reads and make install copies).
#   sh tests/readme/shots.sh [OUT]     (default out/)
set -e
out=${1:-out}
here=$(dirname "$0")
page="$out/01-fixed-learning-rates.html"
[ -f "$page" ] || { echo "shots.sh: no $page; run make report first" >&2; exit 2; }
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,900 \
    --screenshot="$here/page.png" "file://$(realpath "$page")" 2>/dev/null
cp "$out/img/fixed-sweep.png" "$here/figure.png"
echo "shots.sh: $here/page.png $here/figure.png"
