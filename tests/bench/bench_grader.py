"""Grading throughput, r1 vs math-verify, side by side in one run, on the MATH-500 pairs of
tests/data/grading/gold_rewrites.jsonl (bare gold/pred answers): pairs graded per second by
  * r1: `r1eval grade` as a user runs it, the wall time of the whole subprocess (start-up, JSON in and out
    included) over the pairs repeated R times, R chosen so a run takes >= ~2 s; single-threaded, and with
    --threads N (N = os.cpu_count(), or --threads-r1);
  * math-verify, in process and single-threaded: verify(parse("$gold$"), parse("$pred$")) with the default
    extraction configs, over the pairs in order until all are graded or --limit-seconds have passed (and at
    least 100 pairs).
Prints pairs/s, the ratio r1 / math-verify, and how often each verdict equals the pair's `expected` (information,
not a check). Timings are machine-dependent; compare only within one run.

Run from the repo root: cmake --build build --target r1eval && .venv/bin/python tests/bench/bench_grader.py
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

PAIRS = "tests/data/grading/gold_rewrites.jsonl"
MIN_R1_SECONDS = 2.0


def run_r1(r1eval, payload, threads):
    """(seconds, output lines) of one `r1eval grade` run over payload; --threads only when threads > 1."""
    cmd = [r1eval, "grade"] + (["--threads", str(threads)] if threads > 1 else [])
    start = time.perf_counter()
    proc = subprocess.run(cmd, input=payload, capture_output=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        first_line = (proc.stderr.decode().strip().splitlines() or [""])[0]
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {first_line[:200]}")
    return seconds, proc.stdout.decode().splitlines()


def bench_r1(r1eval, pairs, threads):
    """(pairs graded, seconds, verdicts of the first copy, every copy the same) over pairs repeated R times."""
    one = "".join(json.dumps({"gold": p["gold"], "pred": p["pred"]}) + "\n" for p in pairs).encode()
    repeats = 1
    seconds, lines = run_r1(r1eval, one, threads)  # the first run calibrates (and warms the page cache)
    while seconds < MIN_R1_SECONDS:
        repeats = math.ceil(repeats * 1.2 * MIN_R1_SECONDS / seconds)
        seconds, lines = run_r1(r1eval, one * repeats, threads)
    if len(lines) != len(pairs) * repeats:
        raise RuntimeError(f"r1eval wrote {len(lines)} lines for {len(pairs) * repeats} pairs")
    first = lines[:len(pairs)]
    same = all(lines[k * len(pairs):(k + 1) * len(pairs)] == first for k in range(repeats))
    return len(lines), seconds, [json.loads(l)["correct"] for l in first], same, lines


def bench_math_verify(pairs, limit_seconds):
    """(pairs graded, seconds, verdicts) for math-verify, in order, until done or past the time limit."""
    from math_verify import parse, verify
    verdicts = []
    start = time.perf_counter()
    for p in pairs:
        try:
            verdicts.append(bool(verify(parse("$" + p["gold"] + "$"), parse("$" + p["pred"] + "$"))))
        except Exception:  # a grader error counts as "not correct", as r1 reports it
            verdicts.append(False)
        if time.perf_counter() - start >= limit_seconds and len(verdicts) >= 100:
            break
    return len(verdicts), time.perf_counter() - start, verdicts


def agreement(verdicts, pairs):
    agree = sum(v == p["expected"] for v, p in zip(verdicts, pairs))
    return f"{agree}/{len(verdicts)} ({100 * agree / len(verdicts):.1f}%)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--r1eval", default="build/bin/r1eval")
    ap.add_argument("--limit-seconds", type=float, default=20.0, help="math-verify time budget")
    ap.add_argument("--threads-r1", type=int, default=os.cpu_count() or 1, help="threads for the threaded r1 run")
    args = ap.parse_args()
    with open(PAIRS, encoding="utf-8") as f:
        pairs = [p for p in map(json.loads, f) if p["source"].startswith("math500/")]

    rows = []  # (name, threads, pairs graded, seconds, agreement)
    n, sec, r1_verdicts, _, single_lines = bench_r1(args.r1eval, pairs, 1)
    rows.append(("r1 (r1eval grade)", 1, n, sec, agreement(r1_verdicts, pairs)))
    threaded_note = ""
    if args.threads_r1 > 1:
        try:
            n, sec, verdicts, same, lines = bench_r1(args.r1eval, pairs, args.threads_r1)
            rows.append(("r1 (r1eval grade --threads)", args.threads_r1, n, sec, agreement(verdicts, pairs)))
            if not same or lines[:len(pairs)] != single_lines[:len(pairs)]:
                threaded_note = "  WARNING: threaded output differs from the single-thread output (order?)"
        except RuntimeError as e:
            threaded_note = f"  r1 --threads {args.threads_r1}: not run ({e})"
    n, sec, mv_verdicts = bench_math_verify(pairs, args.limit_seconds)
    from importlib.metadata import version
    rows.append((f"math-verify {version('math-verify')}", 1, n, sec, agreement(mv_verdicts, pairs)))

    print(f"grading {len(pairs)} MATH-500 pairs ({PAIRS}), {os.cpu_count()} CPUs")
    print(f"{'grader':30s} {'threads':>7s} {'pairs':>8s} {'seconds':>8s} {'pairs/s':>9s}  agrees with expected")
    for name, threads, n, sec, agree in rows:
        print(f"{name:30s} {threads:7d} {n:8d} {sec:8.2f} {n / sec:9.0f}  {agree}")
    if len(mv_verdicts) < len(pairs):
        print(f"  (math-verify graded the first {len(mv_verdicts)}; r1 on those: "
              f"{agreement(r1_verdicts[:len(mv_verdicts)], pairs)})")
    if threaded_note:
        print(threaded_note)
    mv_rate = rows[-1][2] / rows[-1][3]
    ratios = [f"{r[2] / r[3] / mv_rate:.1f}x ({r[1]} thread{'s' if r[1] > 1 else ''})" for r in rows[:-1]]
    print("r1 / math-verify (1 thread): " + ", ".join(ratios))


if __name__ == "__main__":
    try:
        main()
    except (OSError, RuntimeError) as e:
        sys.exit(f"bench_grader: {e}")
