#!/usr/bin/env python3
"""Grader parity: r1eval grade against the recorded verdicts of two real references.

1. ../shared/data/grading/math_verify_cases.jsonl: math-verify's own test cases (gold and pred are
   free text there; both go through r1's "anywhere" extraction, as math-verify's parse() does).
   r1 must agree with `expected` on at least 97% of rows, and every row where it does not must be
   listed in tests/data/grading/math_verify_disagreements.jsonl with the reason r1 is right.
2. ../shared/data/grading/qwen25math_math_cot_100_outputs.jsonl: 800 real model responses with
   the Qwen2.5-Math harness's verdicts; r1 (R1's "boxed" preset) must agree on at least 99%,
   every disagreement listed in tests/data/grading/qwen25math_disagreements.jsonl.

3. tests/data/grading/math500_real_responses.jsonl: real MATH-500 responses of SmolLM2-135M and
   Qwen2.5-Coder-0.5B (R1 prompt, sampled; tests/reference/math500_grading_parity.py), the grading
   regression set: r1's verdicts with the `anywhere` and `boxed` presets must equal the committed
   ones on every row, and every listed disagreement with math-verify must be judged (`who`, `why`
   in tests/data/grading/math500_real_disagreements.jsonl).

Run from the repository root:  python3 tests/reference/check_grader_parity.py --r1eval build/bin/r1eval
(--write-disagreements rewrites the two lists' rows, keeping the reasons already written.)
"""
import argparse
import ast
import json
import subprocess
import sys

SHARED = "../shared/data/grading/"
MV_LIST = "tests/data/grading/math_verify_disagreements.jsonl"
QWEN_LIST = "tests/data/grading/qwen25math_disagreements.jsonl"
M500_SET = "tests/data/grading/math500_real_responses.jsonl"
M500_LIST = "tests/data/grading/math500_real_disagreements.jsonl"


def grade(r1eval, lines, *flags):
    out = subprocess.run([r1eval, "grade", *flags], input="".join(json.dumps(l) + "\n" for l in lines),
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(out) == len(lines), (len(out), len(lines))
    return [json.loads(o) for o in out]


def load_list(path):
    try:
        with open(path) as f:
            return {r["key"]: r for r in map(json.loads, f)}
    except FileNotFoundError:
        return {}


def check(name, rows, verdicts, listed, path, minimum, write):
    """rows: (key, description dict, expected bool); verdicts: r1's grades."""
    disagree = [(k, d, e, v) for (k, d, e), v in zip(rows, verdicts) if v["correct"] != e]
    agree = len(rows) - len(disagree)
    print(f"{name}: r1 agrees on {agree}/{len(rows)} ({100.0 * agree / len(rows):.1f}%), "
          f"needs {100 * minimum:.0f}%")
    ok = agree >= minimum * len(rows)
    seen = set()
    new_list = []
    for k, d, e, v in disagree:
        seen.add(k)
        entry = dict(key=k, **d, expected=e, r1=v["correct"], r1_reason=v["reason"],
                     extracted=v["extracted"], why=listed.get(k, {}).get("why", "TODO"))
        new_list.append(entry)
        if k not in listed:
            ok = False
            print(f"  not listed in {path}: {k} expected={e} r1={v['correct']} ({v['reason']}) "
                  f"extracted={v['extracted']!r} {json.dumps(d)[:300]}")
        elif listed[k].get("why", "TODO") == "TODO":
            ok = False
            print(f"  listed without a reason: {k}")
    for k in listed:
        if k not in seen:
            ok = False
            print(f"  listed in {path} but r1 now agrees: {k}")
    if write:
        with open(path, "w") as f:
            for entry in new_list:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--r1eval", default="build/bin/r1eval")
    ap.add_argument("--write-disagreements", action="store_true")
    args = ap.parse_args()

    ok = True
    rows, lines = [], []
    with open(SHARED + "math_verify_cases.jsonl") as f:
        for i, r in enumerate(map(json.loads, f)):
            expected = bool(r.get("expected", r.get("result")))
            lines.append({"gold": r["gold"], "response": r["pred"],
                          "float_places": r.get("precision", 6)})
            rows.append((f"row{i}", {"gold": r["gold"][:400], "pred": r["pred"][:400],
                                     "test": r["_test"]}, expected))
    verdicts = grade(args.r1eval, lines, "--preset", "anywhere", "--gold-preset", "anywhere")
    ok &= check("math_verify_cases", rows, verdicts, load_list(MV_LIST), MV_LIST, 0.97,
                args.write_disagreements)

    rows, lines = [], []
    with open(SHARED + "qwen25math_math_cot_100_outputs.jsonl") as f:
        for r in map(json.loads, f):
            lit = lambda v: ast.literal_eval(v) if isinstance(v, str) else v
            responses, scores, preds = lit(r["code"]), lit(r["score"]), lit(r["pred"])
            for k, (resp, score, pred) in enumerate(zip(responses, scores, preds)):
                lines.append({"gold": r["gt"], "response": resp})
                rows.append((f"idx{r['idx']}/{k}", {"gold": r["gt"], "qwen_pred": pred}, bool(score)))
    verdicts = grade(args.r1eval, lines, "--preset", "boxed")
    ok &= check("qwen25math_math_cot_100", rows, verdicts, load_list(QWEN_LIST), QWEN_LIST, 0.99,
                args.write_disagreements)
    ok &= check_math500_set(args.r1eval)
    sys.exit(0 if ok else 1)


def check_math500_set(r1eval):
    """The real-response regression set: r1's verdicts as committed, each disagreement judged."""
    rows = [json.loads(l) for l in open(M500_SET, encoding="utf-8")]
    ok = True
    for preset in ("anywhere", "boxed"):
        verdicts = grade(r1eval, [{"gold": r["gold"], "response": r["response"]} for r in rows],
                         "--preset", preset)
        changed = [(r, v) for r, v in zip(rows, verdicts)
                   if (v["correct"], v["extracted"]) != (r[f"r1_{preset}"]["correct"],
                                                         r[f"r1_{preset}"]["extracted"])]
        agree = sum(v["correct"] == r["math_verify"] for r, v in zip(rows, verdicts))
        print(f"math500_real_responses ({preset}): {len(rows) - len(changed)}/{len(rows)} verdicts "
              f"as committed; agrees with math-verify on {agree}/{len(rows)}")
        for r, v in changed[:20]:
            print(f"  changed: {r['key']} gold={r['gold']!r} committed={r[f'r1_{preset}']} now={v}")
        ok &= not changed
    listed = load_list(M500_LIST)
    for k, d in listed.items():
        if "TODO" in (d.get("who"), d.get("why")):
            ok = False
            print(f"  listed without a judgement: {k}")
    return ok


if __name__ == "__main__":
    main()
