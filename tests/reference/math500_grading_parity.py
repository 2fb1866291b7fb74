"""MATH-500 grading on real responses: r1's grader against math-verify (issue 20, point 2).

Reads r1eval runs of MATH-500 (the R1 prompt, sampled: `r1eval run math500 --preset r1 --samples 4
...`, one run per model) and grades every stored response, on the same text, with:
- math-verify 0.9.0 (PyPI, as open-r1 and lighteval call it): verify(parse("\\boxed{GOLD}"),
  parse(response)), parse with its default extraction configs (LaTeX and plain expressions);
- r1's grader, `r1eval grade` on {gold, response}, with two extraction presets:
  `anywhere` (r1's reading of math-verify's rules: boxed, answer phrases, the last math
  environment, the last number) and `boxed` (the R1 protocol's: only a \\boxed{} answer counts).
  The run's own verdict (`r1_run`: boxed, closed reasoning and no truncation required) is kept too.
Writes the grading regression set (tests/data/grading/math500_real_responses.jsonl: every response
with all verdicts) and OUT/report.md. The disagreements are listed in
tests/data/grading/math500_real_disagreements.jsonl with `who` is right and `why`, written by a
person after reading the case: every `anywhere` disagreement, and every `boxed` one where r1 found a
boxed answer. A `boxed` disagreement on a response without any \\boxed{} is the protocol's rule,
not a grading error: those are counted, not listed. tests/reference/check_grader_parity.py checks
the set in CI.

Run from the repository root:
  .venv/bin/python tests/reference/math500_grading_parity.py \
      --run smollm2-135m=docs/results/real/math500-r1-prompt/smollm2-135m \
      --run qwen2.5-coder-0.5b=docs/results/real/math500-r1-prompt/qwen2.5-coder-0.5b \
      --out docs/results/real/math500-r1-prompt
"""
import argparse
import json
import os
import subprocess
import sys

from math_verify import parse, verify

SET = "tests/data/grading/math500_real_responses.jsonl"
LIST = "tests/data/grading/math500_real_disagreements.jsonl"
DATA = "../shared/data/benchmarks/math500.jsonl"
PRESETS = ("anywhere", "boxed")


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def r1_grades(r1eval, rows, preset):
    inp = "".join(json.dumps({"gold": r["gold"], "response": r["response"]}) + "\n" for r in rows)
    out = subprocess.run([r1eval, "grade", "--preset", preset], input=inp, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert len(out) == len(rows)
    return [json.loads(o) for o in out]


def math_verify_grade(gold, response):
    try:
        g = parse("\\boxed{" + gold + "}")
        p = parse(response)
        return bool(verify(g, p)), [str(x) for x in p]
    except Exception as e:  # math-verify's own timeouts and parse errors: counted as wrong
        return False, [f"error: {type(e).__name__}"]


def collect(runs):
    gold = {r["unique_id"]: r["answer"] for r in load_jsonl(DATA)}
    rows = []
    for model, run in runs:
        samples = load_jsonl(os.path.join(run, "samples.jsonl"))
        samples.sort(key=lambda s: (s["problem_id"], s["sample_index"]))
        for s in samples:
            rows.append({"key": f"{model}/{s['problem_id']}/{s['sample_index']}", "model": model,
                         "problem_id": s["problem_id"], "sample_index": s["sample_index"],
                         "gold": gold[s["problem_id"]], "response": s["response"],
                         "finish_reason": s["finish_reason"], "r1_run": s["correct"]})
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", action="append", required=True, help="MODEL=RUN_DIR")
    ap.add_argument("--out", required=True)
    ap.add_argument("--r1eval", default="build/bin/r1eval")
    args = ap.parse_args()
    runs = [tuple(r.split("=", 1)) for r in args.run]
    rows = collect(runs)
    for preset in PRESETS:
        for r, g in zip(rows, r1_grades(args.r1eval, rows, preset)):
            r[f"r1_{preset}"] = {"correct": g["correct"], "reason": g["reason"],
                                 "extracted": g["extracted"]}
    for i, r in enumerate(rows):
        r["math_verify"], r["mv_parsed"] = math_verify_grade(r["gold"], r["response"])
        if i % 200 == 199:
            print(f"math500_grading_parity: {i + 1}/{len(rows)}", file=sys.stderr, flush=True)
    with open(SET, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    listed = {}
    if os.path.exists(LIST):
        listed = {d["key"]: d for d in load_jsonl(LIST)}
    disagree = [(preset, r) for r in rows for preset in PRESETS if listed_case(r, preset)]
    with open(LIST, "w", encoding="utf-8") as f:
        for preset, r in disagree:
            key = f"{r['key']}/{preset}"
            g = r[f"r1_{preset}"]
            d = {"key": key, "gold": r["gold"], "preset": preset, "r1": g["correct"],
                 "r1_extracted": g["extracted"], "math_verify": r["math_verify"],
                 "mv_parsed": r["mv_parsed"], "who": listed.get(key, {}).get("who", "TODO"),
                 "why": listed.get(key, {}).get("why", "TODO")}
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    write_report(args.out, runs, rows, disagree, listed)


def listed_case(r, preset):
    """A disagreement a person judges: every `anywhere` one; `boxed` ones where r1 found a box."""
    g = r[f"r1_{preset}"]
    return g["correct"] != r["math_verify"] and (preset == "anywhere" or g["extracted"] is not None)


def write_report(out, runs, rows, disagree, listed):
    lines = ["# MATH-500, R1 prompt: r1's grader against math-verify on real responses\n",
             "Made by `tests/reference/math500_grading_parity.py` (command in its docstring) from "
             "the r1eval runs in this folder (each run's `run.json` holds its command). Correct "
             "counts per grader; agreement with math-verify per r1 preset.\n",
             "| model | responses | math-verify | r1 anywhere | agree | r1 boxed | agree | "
             "no \\boxed{} | r1 run verdict |", "|---|---|---|---|---|---|---|---|---|"]
    for model, _ in runs:
        m = [r for r in rows if r["model"] == model]
        n = max(1, len(m))
        cells = [model, str(len(m)), str(sum(r["math_verify"] for r in m))]
        for preset in PRESETS:
            agree = sum(r[f"r1_{preset}"]["correct"] == r["math_verify"] for r in m)
            cells += [str(sum(r[f"r1_{preset}"]["correct"] for r in m)),
                      f"{agree} ({100 * agree / n:.1f}%)"]
        cells.append(str(sum(r["r1_boxed"]["extracted"] is None for r in m)))
        cells.append(str(sum(r["r1_run"] for r in m)))
        lines.append("| " + " | ".join(cells) + " |")
    unboxed = sum(r["r1_boxed"]["correct"] != r["math_verify"] and r["r1_boxed"]["extracted"] is None
                  for r in rows)
    lines.append(f"\n`boxed` disagreements on responses without any \\boxed{{}} (the R1 protocol's "
                 f"rule: no boxed answer, no credit; math-verify takes the last expression): "
                 f"{unboxed}. They are in the regression set, not listed below.\n")
    lines.append("## Disagreements, each judged\n")
    if not disagree:
        lines.append("None.")
    for preset, r in disagree:
        d = listed.get(f"{r['key']}/{preset}", {})
        g = r[f"r1_{preset}"]
        lines.append(f"- `{r['key']}` ({preset}) gold `{r['gold']}`: r1 {g['correct']} (extracted "
                     f"`{g['extracted']}`), math-verify {r['math_verify']} (parsed "
                     f"`{r['mv_parsed']}`). Right: {d.get('who', 'TODO')}. {d.get('why', 'TODO')}")
    with open(os.path.join(out, "report.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
