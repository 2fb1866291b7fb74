#!/usr/bin/env bash
# Time to first token over HTTP on a real model (issue 20, point 3): the same HumanEval job run by
# r1eval three ways, one after another on one machine, and each run's speed block printed:
#   native    r1eval --model GGUF (its engine in-process: time to first token from the engine)
#   stream    r1eval --endpoint r1serve (streamed replies: time to first token, time per token)
#   plain     r1eval --endpoint r1serve --no-stream (whole replies: no time to first token)
# The server serves the same GGUF file with the same batch; r1eval sends --concurrency requests.
#   tests/bench/ttft_http.sh [OUT_DIR] [LIMIT] [MAX_NEW_TOKENS]
# Defaults: /tmp/ttft-http, 32 problems, 256 new tokens; model: SmolLM2-135M-Instruct (set-up's cache).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
source tests/bench/r1serve_start.sh
out=${1:-/tmp/ttft-http}
limit=${2:-32}
tokens=${3:-256}
bin=build/bin
model=${R1_MODEL:-$HOME/.cache/r1/models/SmolLM2-135M-Instruct.Q4_1.gguf}
[ -f "$model" ] || { echo "ttft_http: $model not found (run scripts/setup.sh)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
common=(run humaneval --data-dir ../shared/data/benchmarks --limit "$limit" --preset greedy
  --force-think false --max-new-tokens "$tokens" --no-progress)

"$bin/r1eval" "${common[@]}" --model "$model" --threads 2 --max-batch 16 --out "$out/native" \
  > "$out/native.log" 2>&1

start_r1serve "$model" "$out" ttft_http
"$bin/r1eval" "${common[@]}" --endpoint "$endpoint" --concurrency 16 --out "$out/stream" \
  > "$out/stream.log" 2>&1
"$bin/r1eval" "${common[@]}" --endpoint "$endpoint" --concurrency 16 --no-stream --out "$out/plain" \
  > "$out/plain.log" 2>&1

echo "| run | wall s | generated tokens | generated tok/s | TTFT mean / p50 / p90 s | TPOT mean / p50 / p90 ms | pass@1 |"
echo "|---|---|---|---|---|---|---|"
for run in native stream plain; do
  .venv/bin/python - "$out/$run/results.json" "$run" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["speed"]
def dist(d, scale):
    return "-" if not d else " / ".join(f"{d[k] * scale:.3g}" for k in ("mean", "p50", "p90"))
p1 = r["benchmarks"]["humaneval"]["pass@1"]
print(f"| {sys.argv[2]} | {s['wall_s']:.1f} | {s['completion_tokens']} | {s['generated_tok_s']:.1f} | "
      f"{dist(s['ttft_s'], 1)} | {dist(s['tpot_s'], 1000)} | {p1:.3f} |")
EOF
done
