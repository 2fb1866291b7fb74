#!/usr/bin/env bash
# r1's main job on its built-in default: builds r1, then samples 4 continuations of a prompt from
# the tiny random Qwen2 checkpoint shipped in tests/data (no downloads). Until the tiny R1 model
# lands, this shows the engine end to end: batched sampling, per-sample seeds, log-probs.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/build.sh >/dev/null
echo "r1gen --model tests/data/models/qwen2-gqa-fp32 --prompt-ids 1,17,42 --n 4 --temperature 0.6 --top-p 0.95 --max-new-tokens 16 --seed 0 --json"
build/bin/r1gen --model tests/data/models/qwen2-gqa-fp32 --prompt-ids 1,17,42 --n 4 \
  --temperature 0.6 --top-p 0.95 --max-new-tokens 16 --seed 0 --json "$@"
