"""How often r1's grader agrees with math-verify's expected verdicts on the literal test cases of
Math-Verify (../shared/data/grading/math_verify_cases.jsonl), feeding gold and pred as bare
answers to `r1eval grade`. A progress measure for the grader issue, not a test.

Run from the repo root: .venv/bin/python tests/reference/grader_baseline.py [--r1eval PATH]
"""
import argparse
import json
import subprocess

ap = argparse.ArgumentParser()
ap.add_argument("--r1eval", default="build/bin/r1eval")
args = ap.parse_args()
rows = [json.loads(l) for l in open("../shared/data/grading/math_verify_cases.jsonl", encoding="utf-8")]
inp = "".join(json.dumps({"gold": r["gold"], "pred": r["pred"]}) + "\n" for r in rows)
out = subprocess.run([args.r1eval, "grade"], input=inp.encode(), capture_output=True, check=True)
verdicts = [json.loads(l)["correct"] for l in out.stdout.decode().splitlines()]
agree = sum(bool(r.get("expected", r.get("result"))) == v for r, v in zip(rows, verdicts))
print(f"r1 agrees with math-verify's expected verdict on {agree}/{len(rows)} cases ({100 * agree / len(rows):.1f}%)")
