#!/usr/bin/env bash
# Distillation between real models with different tokenizers (issue 20, point 5): teacher
# Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF) served by r1serve, student SmolLM2-135M-Instruct
# (Q4_1 GGUF, dequantized to float32 for its SFT), through r1distill's three stages and its
# held-out report (teacher, student before and after, the paired difference with its 95% CI).
# Neither model writes R1's <think> block, so the run is --no-think: plain chat replies.
# Also records r1distill's refusal of logit-level KD between the two (different vocabularies).
#   tests/bench/distill_real.sh [OUT_DIR] [PROMPTS] [SAMPLES]
# Defaults: /tmp/distill-real, the 1,000 prompts of docs/results/real/grpo-smollm2/train.jsonl, one
# trace each; held out: that folder's heldout.jsonl (100 problems, none in the training file).
# Grading is r1's boxed preset throughout (the prompts ask for \boxed{}); the student's SFT uses
# TRL's SFTConfig default learning rate, 2e-5.
# The held-out evaluations are then regraded with the boxed-or-phrase preset (OUT_DIR/phrase/: a
# bare "The answer is 5." counts too), and compared again, to show what the box requirement hides.
# Rerunning with the same OUT_DIR resumes every stage (r1distill's own resume).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/bench/r1serve_start.sh
out=${1:-/tmp/distill-real}
prompts=${2:-1000}
samples=${3:-1}
bin=build/bin
models=${R1_MODELS_DIR:-$HOME/.cache/r1/models}
teacher=$models/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf
student=$models/SmolLM2-135M-Instruct.Q4_1.gguf
data=docs/results/real/grpo-smollm2
for f in "$teacher" "$student"; do
  [ -f "$f" ] || { echo "distill_real: $f not found (run scripts/setup.sh)" >&2; exit 1; }
done
mkdir -p "$out"

# Logit-level KD needs one vocabulary: r1distill refuses before any work, and says why.
set +e
"$bin/r1distill" --teacher "$teacher" --student "$student" --prompts "$data/train.jsonl" \
  --question-field prompt --out "$out/kd-refused" --train kd > "$out/kd-refused.txt" 2>&1
echo "exit $?" >> "$out/kd-refused.txt"
set -e

start_r1serve "$teacher" "$out" distill_real

start=$(date +%s)
"$bin/r1distill" --teacher "$endpoint" --student "$student" \
  --prompts "$data/train.jsonl" --question-field prompt --limit "$prompts" \
  --protocol grpo --no-think --samples "$samples" --temperature 0.6 --top-p 0.95 \
  --max-new-tokens 128 --seed 0 --concurrency 16 \
  --epochs 2 --batch-size 8 --lr 2e-5 --dtype float32 \
  --eval-data "$data/heldout.jsonl" --eval-samples 4 --threads 2 \
  --out "$out/run" 2>&1 | tee "$out/r1distill.log"
end=$(date +%s)
echo "wall_s $((end - start))" | tee -a "$out/r1distill.log"
cat "$out/run/report.md"

# The same evaluations graded with boxed-or-phrase (no generation: r1eval regrade on copies).
rm -rf "$out/phrase"
mkdir -p "$out/phrase"
for who in teacher student-before student-after; do
  cp -r "$out/run/evals/$who" "$out/phrase/$who"
  "$bin/r1eval" regrade "$out/phrase/$who" --extract boxed-or-phrase --no-progress \
    > "$out/phrase/$who.log" 2>&1
done
"$bin/r1eval" compare "$out/phrase/student-before" "$out/phrase/student-after" \
  | tee "$out/phrase/compare.md"
