"""The honest spread of the tiny-r1 recipe: runs it under the ISA, thread and seed variations one
machine can reproduce, and compares each run with the committed CI baseline through the committed
CI gates (what ctest tiny_r1_regression does), so the gate margins can be set from measurements.

A configuration is a name (see CONFIGS below):
  native            this CPU's own kernels, 2 threads (what ci_regression.sh runs)
  threads1          1 thread
  aten-avx2         ATEN_CPU_CAPABILITY=avx2 (LibTorch's own vector kernels at AVX2)
  aten-default      ATEN_CPU_CAPABILITY=default (no explicit vectorisation in ATen)
  aten-avx512       ATEN_CPU_CAPABILITY=avx512 (only where the CPU has AVX-512)
  mkl-avx2          MKL_ENABLE_INSTRUCTIONS=AVX2 (MKL's GEMMs at AVX2)
  avx2-machine      all three libraries held to AVX2 (ATen, MKL, oneDNN): an AVX2-only CPU
  avx2-machine-t1   the same with 1 thread
  seedN             (N = 1, 2, ...) every training and sampling seed set from N: SFT, GRPO,
                    rejection sampling, distillation (its student's base too) and evaluation; the
                    input model's seed is the task's and stays (it draws the held-out problems)
  slowrl            a planted regression: every GRPO stage at a 5x lower learning rate
  NAME=CONFIG       any of the above, stored under another name (e.g. bug-advantage-sign=native
                    after building r1 with docs/results/tiny-r1/spread/bug-advantage-sign.patch)

Each run goes to OUT/NAME (the pipeline run), OUT/NAME.compare.{md,json} (r1report compare with
the gates) and one JSON line in OUT/spread.jsonl: its exit codes, wall time, and per stage the
pass@1 (or rejection sampling's kept rate), the paired difference to the baseline and its 95% CI.
`--table` prints the Markdown table of every line in OUT/spread.jsonl (the last one per name);
`--recompare` judges every stored run again, against a new baseline or gates file.

Run from the repo root after scripts/build.sh (about 5 minutes per run on 2 idle cores; the
`aten-default` and 1-thread runs take longer). --jobs 2 runs two at once: use it only for 1-thread
configurations, since each run's numbers do not depend on timing but two 2-thread runs on 2 cores
stall each other's OpenMP threads.
  python3 tests/bench/tiny_r1_spread.py --out runs/spread native aten-avx2 aten-default seed1
  python3 tests/bench/tiny_r1_spread.py --out runs/spread --table
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time

AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        "ONEDNN_MAX_CPU_ISA": "AVX2"}
CONFIGS = {
    "native": ({}, 2),
    "threads1": ({}, 1),
    "aten-avx2": ({"ATEN_CPU_CAPABILITY": "avx2"}, 2),
    "aten-default": ({"ATEN_CPU_CAPABILITY": "default"}, 2),
    "aten-avx512": ({"ATEN_CPU_CAPABILITY": "avx512"}, 2),
    "mkl-avx2": ({"MKL_ENABLE_INSTRUCTIONS": "AVX2"}, 2),
    "avx2-machine": (AVX2, 2),
    "avx2-machine-t1": (AVX2, 1),
}
ISA_VARIABLES = ("ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA")


def cpu_has_avx512():
    try:
        with open("/proc/cpuinfo") as f:
            return " avx512f" in f.read()
    except OSError:
        return False


def set_seeds(recipe, seed):
    """Every training and sampling seed of a tiny-r1 recipe from one number: each stage (the
    distilled student's own base included) and the evaluations. The input model's seed stays: it
    is the task's seed too, and so draws the held-out problems the baseline is paired on."""
    recipe.setdefault("eval", {})["seed"] = seed
    for i, stage in enumerate(recipe["stages"]):
        stage.setdefault("config", {})["seed"] = seed * 100 + i
        if isinstance(stage["config"].get("student"), dict):
            stage["config"]["student"]["seed"] = seed * 100 + 50 + i


def slow_rl(recipe):
    """The planted regression: each GRPO stage's learning rate divided by 5."""
    for stage in recipe["stages"]:
        if stage.get("type") == "grpo":
            stage["config"]["lr"] = float(stage["config"]["lr"]) / 5


def resolve(spec):
    """(name, env, threads, recipe edit) of a configuration spec NAME or NAME=CONFIG."""
    name, _, config = spec.partition("=")
    config = config or name
    if config in CONFIGS:
        env, threads = CONFIGS[config]
        return name, env, threads, None
    if m := re.fullmatch(r"seed(\d+)", config):
        return name, {}, 2, lambda r: set_seeds(r, int(m.group(1)))
    if config == "slowrl":
        return name, {}, 2, slow_rl
    sys.exit(f"tiny_r1_spread: unknown configuration '{config}' "
             f"(known: {', '.join(CONFIGS)}, seedN, slowrl)")


def write_recipe(src, out_path, edit):
    import yaml  # the repo's .venv has PyYAML; only needed for recipe edits
    with open(src) as f:
        recipe = yaml.safe_load(f)
    edit(recipe)
    with open(out_path, "w") as f:
        yaml.safe_dump(recipe, f, sort_keys=False)


def stage_values(run_dir):
    """Per stage: pass@1 of its evaluation, or kept_rate for rejection sampling."""
    with open(os.path.join(run_dir, "pipeline.json")) as f:
        p = json.load(f)
    values = {}
    for st in p.get("stages", []):
        name = st.get("name")
        if st.get("data"):
            values[name] = st["data"].get("kept_rate")
        elif st.get("eval_dir"):
            try:
                with open(os.path.join(run_dir, st["eval_dir"], "results.json")) as f:
                    r = json.load(f)
                values[name] = next(iter(r["benchmarks"].values()))["pass@1"]
            except (OSError, KeyError, StopIteration, ValueError):
                values[name] = None
    return values


def compare_rows(compare_json):
    """Per stage: (difference, ci95 low, ci95 high, all gates passed) from r1report compare."""
    rows = {}
    for st in compare_json.get("stages", []):
        diff = lo = hi = None
        for cmp in st.get("benchmarks", {}).values():
            diff = cmp.get("difference", cmp.get("diff"))
            ci = cmp.get("ci95") or [None, None]
            lo, hi = ci[0], ci[1]
        passed = all(g.get("status") == "passed" for g in st.get("gates", []))
        rows[st["stage"]] = {"diff": diff, "lo": lo, "hi": hi, "passed": passed}
    return rows


def run_one(spec, args):
    name, env, threads, edit = resolve(spec)
    if env.get("ATEN_CPU_CAPABILITY") == "avx512" and not cpu_has_avx512():
        return {"name": name, "skipped": "this CPU has no AVX-512"}
    run_dir = os.path.join(args.out, name)
    subprocess.run(["rm", "-rf", run_dir], check=True)
    recipe = args.recipe
    if edit:
        recipe = os.path.join(args.out, name + ".yaml")
        write_recipe(args.recipe, recipe, edit)
    full_env = {k: v for k, v in os.environ.items() if k not in ISA_VARIABLES}
    full_env.update(env)
    cmd = [os.path.join(args.build, "bin", "r1pipeline"), "run", recipe, "--out", run_dir,
           "--threads", str(threads)]
    start = time.time()
    with open(os.path.join(args.out, name + ".log"), "w") as log:
        rc = subprocess.run(cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT).returncode
    seconds = time.time() - start
    row = {"name": name, "env": " ".join(f"{k}={v}" for k, v in env.items()),
           "threads": threads, "recipe": os.path.relpath(recipe), "pipeline_rc": rc,
           "seconds": round(seconds, 1), "values": stage_values(run_dir)}
    row["command"] = (f"{row['env'] + ' ' if row['env'] else ''}build/bin/r1pipeline run "
                      f"{row['recipe']} --out {run_dir} --threads {threads}")
    return compare(row, args)


def compare(row, args):
    """Adds r1report compare's verdict (against args.baseline through args.gates) to a row."""
    run_dir = os.path.join(args.out, row["name"])
    base = os.path.join(args.out, row["name"] + ".compare")
    crc = subprocess.run([os.path.join(args.build, "bin", "r1report"), "compare", args.baseline,
                          run_dir, "--gate", args.gates, "--json", base + ".json", "--out",
                          base + ".md"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL).returncode
    try:
        with open(base + ".json") as f:
            cmp = compare_rows(json.load(f))
    except (OSError, ValueError):
        cmp = {}
    row.update({"compare_rc": crc, "compare": cmp})
    return row


def read_rows(out):
    """The rows of OUT/spread.jsonl, the last one per name, in first-seen order."""
    rows = {}
    with open(os.path.join(out, "spread.jsonl")) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                rows[r["name"]] = r
    return rows


def recompare(args):
    """Judges every stored run again (after the baseline or the gates changed)."""
    rows = [r if "skipped" in r else compare(r, args) for r in read_rows(args.out).values()]
    with open(os.path.join(args.out, "spread.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def table(out):
    rows = read_rows(out)
    stages = []
    for r in rows.values():
        for s in r.get("values", {}):
            if s not in stages:
                stages.append(s)
    head = "| configuration | " + " | ".join(stages) + " | pipeline | vs baseline | time |"
    lines = [head, "|---" * (len(stages) + 4) + "|"]
    for r in rows.values():
        if "skipped" in r:
            lines.append(f"| {r['name']} | skipped: {r['skipped']} |")
            continue
        cells = []
        for s in stages:
            v, c = r["values"].get(s), r["compare"].get(s, {})
            cell = "–" if v is None else f"{100 * v:.1f}%"
            if c.get("diff") is not None and c.get("lo") is not None:
                cell += f" ({100 * c['diff']:+.1f}, lo {100 * c['lo']:+.1f})"
            if c and not c.get("passed", True):
                cell += " **✗**"
            cells.append(cell)
        verdict = {0: "pass", 3: "**fail**"}.get(r["compare_rc"], f"error {r['compare_rc']}")
        prc = {0: "pass", 3: "gate failed"}.get(r["pipeline_rc"], f"error {r['pipeline_rc']}")
        lines.append(f"| {r['name']} | " + " | ".join(cells) +
                     f" | {prc} | {verdict} | {r['seconds']:.0f} s |")
    print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("configs", nargs="*", help="configuration names (see the module doc)")
    ap.add_argument("--out", required=True, help="folder for the runs and spread.jsonl")
    ap.add_argument("--build", default="build")
    ap.add_argument("--recipe", default="pipeline/recipes/tiny-r1.yaml")
    ap.add_argument("--baseline", default="tests/data/baselines/tiny-r1")
    ap.add_argument("--gates", default="tests/data/baselines/tiny-r1.gates.yaml")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--recompare", action="store_true",
                    help="compare every run in OUT/spread.jsonl again (new baseline or gates)")
    ap.add_argument("--table", action="store_true", help="print the table of OUT/spread.jsonl")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for spec in args.configs:
        resolve(spec)  # unknown names fail before anything runs
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for result in pool.map(lambda s: run_one(s, args), args.configs):
            with open(os.path.join(args.out, "spread.jsonl"), "a") as f:
                f.write(json.dumps(result) + "\n")
            print(f"tiny_r1_spread: {result['name']}: "
                  f"{'skipped' if 'skipped' in result else result['compare_rc']}", flush=True)
    if args.recompare:
        recompare(args)
    if args.table:
        table(args.out)


if __name__ == "__main__":
    main()
