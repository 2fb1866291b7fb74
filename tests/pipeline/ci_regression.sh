#!/usr/bin/env bash
# r1's own regression check (ctest tiny_r1_regression): runs the tiny-r1 recipe from scratch, then
# compares it with the committed baseline run through the committed gates, so a change that makes
# r1 train or evaluate worse fails CI. Also renders the run in every format (a real run's reports
# must render). Writes BUILD/ci/: tiny-r1/ (the run), compare.md (the pull-request comment),
# compare.xml (JUnit), report.html.
#   tests/pipeline/ci_regression.sh BUILD_DIR            # the check
#   tests/pipeline/ci_regression.sh BUILD_DIR --update   # ...then make this run the new baseline
# Exit status: 0 no regression, 3 a gate failed (the pipeline's own, or the comparison's), else 1.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
build=${1:?usage: ci_regression.sh BUILD_DIR [--update]}
bin=$build/bin
out=$build/ci
baseline=tests/data/baselines/tiny-r1
rm -rf "$out/tiny-r1"
mkdir -p "$out"
start=$(date +%s)
"$bin/r1pipeline" run pipeline/recipes/tiny-r1.yaml --out "$out/tiny-r1" --threads 2
echo "ci_regression: tiny-r1 ran in $(( $(date +%s) - start )) s"
for f in md html junit json; do
  "$bin/r1report" render "$out/tiny-r1" --format $f --out "$out/report.$f"
done
# The real run's HTML in headless Chromium: every chart written must be in the parsed DOM.
charts=$(grep -o "<svg" "$out/report.html" | wc -l)
bash tests/reports/check_html_chromium.sh "$out/report.html" "$out/report.png" "$charts" \
  || [ $? -eq 77 ]
if [ "${2:-}" = "--update" ]; then
  # The baseline keeps what comparisons read: pipeline.json (marked as a baseline without training
  # logs or checkpoints) and each evaluation's run.json, results.json and summary.md.
  "$bin/r1report" baseline "$out/tiny-r1" --out "$baseline"
  echo "ci_regression: $baseline updated"
fi
"$bin/r1report" compare "$baseline" "$out/tiny-r1" --gate "$baseline.gates.yaml" \
  --junit "$out/compare.xml" --json "$out/compare.json" --out "$out/compare.md" && rc=0 || rc=$?
cat "$out/compare.md"
exit $rc
