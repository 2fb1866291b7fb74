#!/usr/bin/env bash
# r1's main job on its built-in default: the tiny R1-Zero. Builds r1, then `r1train zero` writes a
# synthetic arithmetic task and a random-init tiny Qwen2 (148k parameters, its own tokenizer),
# pretrains it on the task's base documents, gives it a small cold-start SFT, and runs GRPO with
# held-out pass@1 (16 samples per problem) measured on the live weights every 10 steps, all on
# the CPU in a few minutes. Results in runs/zero: results.json, results.md, plot.svg (reward and
# held-out pass@1 by GRPO step). Rerunning resumes (nothing left to train). Extra arguments go to
# `r1train zero` (e.g. --seed 1, --grpo-steps 300; see `build/bin/r1train zero --help`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/build.sh >/dev/null
cmd=(build/bin/r1train zero --out runs/zero "$@")
echo "${cmd[*]}"
"${cmd[@]}"
cat runs/zero/results.md
