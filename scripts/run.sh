#!/usr/bin/env bash
# r1's main job on its built-in default: the R1 recipe at toy size, every stage gated on held-out
# benchmark results, all on the CPU in about 6 minutes. Builds r1, then `r1pipeline run
# pipeline/recipes/tiny-r1.yaml` trains the tiny R1-Zero base (a synthetic arithmetic task, a
# 148k-parameter Qwen2 with its own tokenizer), then runs R1's stages: cold-start SFT, reasoning RL
# (GRPO), rejection sampling from the RL model, SFT of the base on the kept traces, RL again, and
# distillation into a 70k-parameter student. After each stage its checkpoint is evaluated (128
# held-out problems x 16 samples) and promoted only if the stage's gates hold. Results in
# runs/tiny-r1: pipeline.json, report.md, report.html. Rerunning resumes (nothing left to do).
# Extra arguments go to `r1pipeline run` (see `build/bin/r1pipeline run --help`).
# The R1-Zero run alone: build/bin/r1train zero --out runs/zero.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/build.sh >/dev/null
cmd=(build/bin/r1pipeline run pipeline/recipes/tiny-r1.yaml --out runs/tiny-r1 --resume "$@")
echo "${cmd[*]}"
"${cmd[@]}"
cat runs/tiny-r1/report.md
