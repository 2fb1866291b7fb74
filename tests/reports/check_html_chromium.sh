#!/usr/bin/env bash
# Loads an HTML report (r1report render --format html) in headless Chromium: a full-page screenshot
# to look at, and a DOM check that the browser parsed the expected number of <svg> charts (a chart
# broken by bad escaping disappears from the DOM, or swallows what follows).
# Usage: check_html_chromium.sh REPORT.html OUT.png SVG_COUNT
# Exits 0 when the DOM holds SVG_COUNT <svg> elements, 1 otherwise, 2 on bad usage, 77 (skip) when
# no Chromium is installed (Debian: apt-get install chromium-headless-shell).
# Leaves out pixel comparisons: the screenshot is for a person to look at.
set -euo pipefail

if [[ $# -ne 3 || ! -f "$1" || ! "$3" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 REPORT.html OUT.png SVG_COUNT (REPORT.html must exist)" >&2
  exit 2
fi
html=$(realpath "$1")
png=$(realpath -m "$2")
want=$3

browser=""
for candidate in chromium-headless-shell chromium; do
  if command -v "$candidate" > /dev/null; then
    browser=$(command -v "$candidate")
    break
  fi
done
if [[ -z "$browser" ]]; then
  echo "check_html_chromium: no chromium-headless-shell or chromium on PATH; skipped" >&2
  exit 77
fi

# A throwaway profile, so runs neither share state nor touch the user's.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile"
       --no-first-run --disable-extensions --window-size=1280,4000)

mkdir -p "$(dirname "$png")"
rm -f "$png"
"$browser" "${flags[@]}" --screenshot="$png" "file://$html" > /dev/null 2>&1 || true
if [[ ! -s "$png" ]]; then
  echo "check_html_chromium: $browser wrote no screenshot to $png" >&2
  exit 1
fi

dom=$("$browser" "${flags[@]}" --dump-dom "file://$html" 2> /dev/null || true)
got=$(grep -o '<svg[ >]' <<< "$dom" | wc -l)
if [[ "$got" -ne "$want" ]]; then
  echo "check_html_chromium: the DOM of $html holds $got <svg> elements, expected $want" >&2
  exit 1
fi
echo "check_html_chromium: $got <svg> elements; screenshot $png"
