#!/usr/bin/env bash
# r1's main job on its built-in default: builds r1, then evaluates the tiny random R1-style
# checkpoint shipped in tests/data (tests/data/models/tiny-r1) on the first problems of AIME 2024
# with the R1 protocol (4 samples each, short generations so it takes seconds on a CPU), through
# the native engine, into runs/demo: samples.jsonl, results.json, summary.md. Re-running resumes
# (nothing to generate). A random model solves nothing: the point is the pipeline. Extra
# arguments go to r1eval run (e.g. --samples 8). Data: ../shared/data/benchmarks when present,
# else --data-dir / $R1_DATA / ~/.cache/r1/datasets.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/build.sh >/dev/null
data=()
[ -d ../shared/data/benchmarks ] && data=(--data-dir ../shared/data/benchmarks)
cmd=(build/bin/r1eval run aime2024 --model tests/data/models/tiny-r1 --limit 5 --samples 4
  --max-new-tokens 64 --out runs/demo "${data[@]}" "$@")
echo "${cmd[*]}"
"${cmd[@]}"
