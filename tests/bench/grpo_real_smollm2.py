"""GRPO that improves a real model (issue 20, point 4): r1train grpo on SmolLM2-135M-Instruct (GGUF,
float32, 2 CPU cores), held-out pass@1 before and after with a paired 95% CI, and the same
configuration through TRL's GRPOTrainer, with reward and KL curves side by side in one SVG.

The task: small arithmetic (a sum or a difference of numbers up to 30, asked plainly or in one
sentence of words; generated here from a fixed seed, the held-out set sharing no problem text with
the training set), each asking for the answer as "The answer is \\boxed{<number>}". SmolLM2-135M
gets about a fifth of these sums right somewhere in its response but boxes a right answer in about
2% of its responses (a probe of 25 problems x 4 samples at T=0.7), so it starts weak under R1's
boxed rule and can improve within the time limit.

Both trainers: G completions for each of P prompts per step, at most L new tokens, temperature T
(no top-p/top-k; the loss's log-probs at the same T), k3 KL to the initial model with weight beta,
loss "dapo", constant learning rate, gradient clipping 1.0, AdamW, float32, the model's own chat
template with no forced "<think>" (r1: --no-think; SmolLM2 answers without reasoning tags).
Rewards: accuracy (1 iff the last \\boxed{} holds the answer; r1: its math grader with the boxed
preset; TRL: math-verify on the last box) x1.0, boxed (1 iff the response holds a non-empty
\\boxed{} and was not cut at the limit) x0.5. TRL gets the transformers model dequantized from the
same GGUF file and saved as a Hugging Face checkpoint (so it can load its own reference model).

Held-out pass@1: r1train grpo's own evaluation (r1eval's runner on the live weights) at step 0 and
at the end, --eval-samples samples per problem at T=0.6, top-p 0.95, the same seeds at both; then
`r1eval compare` gives the paired per-problem difference and its 95% CI. TRL's trained model goes
through r1eval with the same protocol (trl-eval), compared with the same step-0 run. `paired`
recomputes each comparison twice (bootstrap over problems): with every answer the grader credits,
and with integer answers only (a policy can learn to box the sum itself, "\\boxed{5 + 9}", which
the grader and math-verify rightly find equal to 14, but which skips the arithmetic).

Run from the repository root (after scripts/build.sh), on an otherwise idle machine:
  .venv/bin/python tests/bench/grpo_real_smollm2.py --out docs/results/real/grpo-smollm2 \\
      [--only data,r1,trl,trl-eval,paired,plot] [--steps 50] [--trl-steps N]
Each part reads what the earlier ones wrote, so they can be run one at a time.
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from bench_grpo_step import completion_text, last_boxed, thread_env  # noqa: E402

DEFAULT_MODEL = os.path.expanduser("~/.cache/r1/models/SmolLM2-135M-Instruct.Q4_1.gguf")
SUFFIX = "\nAnswer in the form: The answer is \\boxed{<number>}."


def log(msg):
    print(f"grpo_real_smollm2: {msg}", file=sys.stderr, flush=True)


# --- data ------------------------------------------------------------------------------------------

NAMES = ["Tom", "Anna", "Ben", "Maria", "Sam", "Lily", "Omar", "Grace", "Leo", "Nina"]
ITEMS = ["apples", "pencils", "stickers", "marbles", "books", "cookies", "cards", "stamps"]


def problem(rng):
    """One arithmetic problem on small numbers and its integer answer: a sum, a difference, or a
    sum in one sentence of words."""
    kind = rng.randrange(3)
    if kind == 0:
        a, b = rng.randint(1, 20), rng.randint(1, 20)
        return f"What is {a} + {b}?", a + b
    if kind == 1:
        a = rng.randint(2, 30)
        b = rng.randint(1, a - 1)
        return f"What is {a} - {b}?", a - b
    n, it = rng.choice(NAMES), rng.choice(ITEMS)
    a, b = rng.randint(1, 20), rng.randint(1, 20)
    return f"{n} has {a} {it} and gets {b} more. How many {it} does {n} have now?", a + b


def write_data(out, seed, train_n, heldout_n):
    rng = random.Random(seed)
    seen, rows = set(), []
    while len(rows) < train_n + heldout_n:
        text, answer = problem(rng)
        if text in seen:
            continue
        seen.add(text)
        rows.append({"prompt": text + SUFFIX, "answer": str(answer)})
    for name, part in (("train.jsonl", rows[:train_n]), ("heldout.jsonl", rows[train_n:])):
        with open(os.path.join(out, name), "w") as f:
            for r in part:
                f.write(json.dumps(r) + "\n")
    log(f"data: {train_n} training and {heldout_n} held-out problems in {out}")


# --- r1 --------------------------------------------------------------------------------------------

def r1_command(args, out):
    d = args.out
    return [os.path.join(args.r1_bin, "r1train"), "grpo", "--model", args.model,
            "--prompts", os.path.join(d, "train.jsonl"), "--eval-prompts", os.path.join(d, "heldout.jsonl"),
            "--eval-samples", str(args.eval_samples), "--out", out, "--steps", str(args.steps),
            "--num-generations", str(args.G), "--prompts-per-step", str(args.P),
            "--max-new-tokens", str(args.L), "--temperature", str(args.T), "--top-p", "1", "--top-k", "0",
            "--beta", str(args.beta), "--loss-type", "dapo", "--lr", str(args.lr),
            "--warmup-steps", "0", "--min-lr-ratio", "1", "--clip", "1.0",
            "--micro-batch", str(args.G * args.P), "--rewards", "accuracy:1.0,boxed:0.5",
            "--extract", "boxed", "--no-think", "--seed", str(args.seed), "--threads", str(args.threads),
            "--keep-last", "1", "--dtype", "float32"]


def run_r1(args):
    out = os.path.join(args.work, "r1")  # checkpoints are large: metrics and evals are copied
    shutil.rmtree(out, ignore_errors=True)
    cmd = r1_command(args, out)
    log("r1: " + " ".join(cmd))
    t0 = time.time()
    subprocess.run(cmd, check=True, env=thread_env(args.threads))
    wall = time.time() - t0
    kept = os.path.join(args.out, "r1")
    shutil.rmtree(kept, ignore_errors=True)
    shutil.copytree(os.path.join(out, "evals"), os.path.join(kept, "evals"))
    for name in ("metrics.jsonl", "grpo_config.json"):
        shutil.copy(os.path.join(out, name), kept)
    evals = sorted(os.listdir(os.path.join(kept, "evals")))
    before, after = os.path.join(kept, "evals", evals[0]), os.path.join(kept, "evals", evals[-1])
    cmp_cmd = [os.path.join(args.r1_bin, "r1eval"), "compare", before, after, "--json"]
    cmp = subprocess.run(cmp_cmd, check=True, capture_output=True, text=True).stdout
    with open(os.path.join(args.out, "r1-compare.json"), "w") as f:
        f.write(cmp)
    with open(os.path.join(args.out, "r1-run.json"), "w") as f:
        json.dump({"command": " ".join(cmd), "wall_s": wall, "compare_command": " ".join(cmp_cmd)}, f,
                  indent=2)
    log(f"r1: {wall:.0f} s")


# --- TRL -------------------------------------------------------------------------------------------

def hf_checkpoint(args):
    """The GGUF model dequantized by transformers and saved as a Hugging Face checkpoint."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    path = os.path.join(args.work, "hf-model")
    if os.path.exists(os.path.join(path, "config.json")):
        return path
    d, f = os.path.dirname(args.model), os.path.basename(args.model)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    # transformers marks a model loaded from GGUF as quantized, but its weights are plain float32
    # tensors after loading: the mark is dropped so that Trainer fine-tunes it.
    config_path = os.path.join(path, "config.json")
    with open(config_path) as f:
        config = json.load(f)
    config.pop("quantization_config", None)
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2)
    return path


def cut_at(completion_ids, k, max_len):
    return completion_ids is not None and len(completion_ids[k]) >= max_len


def make_trl_rewards(max_len):
    """TRL's side of r1's accuracy (boxed preset) and boxed rewards: a response cut at the token
    limit scores 0 in both, as in r1 (a truncated response has no answer)."""
    from math_verify import parse, verify

    def accuracy(completions, answer, completion_ids=None, **kw):
        out = []
        for k, (c, a) in enumerate(zip(completions, answer)):
            got = last_boxed(completion_text(c))
            ok = (got is not None and not cut_at(completion_ids, k, max_len)
                  and verify(parse("$" + a + "$"), parse("\\boxed{" + got + "}")))
            out.append(1.0 if ok else 0.0)
        return out

    def boxed(completions, completion_ids=None, **kw):
        out = []
        for k, c in enumerate(completions):
            got = last_boxed(completion_text(c))
            ok = got is not None and got.strip() and not cut_at(completion_ids, k, max_len)
            out.append(1.0 if ok else 0.0)
        return out
    return [accuracy, boxed]


def run_trl(args):
    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer, TrainerCallback
    from transformers.trainer_callback import PrinterCallback
    from trl import GRPOConfig, GRPOTrainer

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model_dir = hf_checkpoint(args)
    rows = [json.loads(l) for l in open(os.path.join(args.out, "train.jsonl"))]
    ds = Dataset.from_list([{"prompt": [{"role": "user", "content": r["prompt"]}], "answer": r["answer"]}
                            for r in rows])
    steps = args.trl_steps or args.steps
    cfg = GRPOConfig(
        output_dir=os.path.join(args.work, "trl"), use_cpu=True, bf16=False, fp16=False, seed=args.seed,
        per_device_train_batch_size=args.G * args.P, gradient_accumulation_steps=1,
        steps_per_generation=1, num_generations=args.G, max_completion_length=args.L,
        temperature=args.T, top_p=1.0, top_k=0, beta=args.beta, num_iterations=1, loss_type="dapo",
        scale_rewards="group", reward_weights=[1.0, 0.5], learning_rate=args.lr,
        lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0, max_grad_norm=1.0,
        max_steps=steps, logging_steps=1, save_strategy="no", report_to="none",
        dataloader_num_workers=0, disable_tqdm=True, model_init_kwargs={"dtype": torch.float32},
        gradient_checkpointing=False)  # TRL 1.16 defaults to True; r1 recomputes nothing

    metrics_path = os.path.join(args.out, "trl-metrics.jsonl")
    open(metrics_path, "w").close()

    class StepLog(TrainerCallback):
        """Each step's logged fields with its wall time, appended as the step ends (a run stopped
        early keeps its steps)."""
        def __init__(self):
            self.t0, self.last = None, None

        def on_step_begin(self, a, state, control, **kw):
            self.t0 = time.perf_counter()

        def on_step_end(self, a, state, control, **kw):
            self.last = time.perf_counter() - self.t0

        def on_log(self, a, state, control, logs=None, **kw):
            if not logs or "reward" not in logs or "train_runtime" in logs:
                return
            row = dict(logs, step=state.global_step, **{"time/step": self.last})
            with open(metrics_path, "a") as f:
                f.write(json.dumps(row) + "\n")
            log(f"TRL step {state.global_step}/{steps}: {self.last:.1f} s, reward {logs['reward']:.3f}")

    trainer = GRPOTrainer(model=model_dir, processing_class=AutoTokenizer.from_pretrained(model_dir),
                          reward_funcs=make_trl_rewards(args.L), args=cfg, train_dataset=ds,
                          callbacks=[StepLog()])
    trainer.remove_callback(PrinterCallback)
    t0 = time.time()
    trainer.train()
    wall = time.time() - t0
    trainer.save_model(os.path.join(args.work, "trl-final"))
    with open(os.path.join(args.out, "trl-run.json"), "w") as f:
        json.dump({"steps": steps, "wall_s": wall, "config": cfg.to_dict()}, f, indent=2, default=str)
    log(f"TRL: {wall:.0f} s")


def eval_trl(args):
    """TRL's trained model on the held-out set through r1eval, with the protocol of r1train grpo's
    own evaluation (same prompts, sampling and seeds), compared paired with r1's step-0 run."""
    out = os.path.join(args.out, "trl-eval")
    shutil.rmtree(out, ignore_errors=True)
    r1eval = os.path.join(args.r1_bin, "r1eval")
    cmd = [r1eval, "run", "--dataset", os.path.join(args.out, "heldout.jsonl"), "--question-field",
           "prompt", "--model", os.path.join(args.work, "trl-final"), "--prompt-template", "{problem}",
           "--force-think", "false", "--extract", "boxed", "--samples", str(args.eval_samples),
           "--temperature", "0.6", "--top-p", "0.95", "--max-new-tokens", str(args.L), "--seed",
           str(args.seed), "--out", out, "--no-progress"]
    subprocess.run(cmd, check=True, env=thread_env(args.threads), stdout=subprocess.DEVNULL)
    before = os.path.join(args.out, "r1", "evals", "step-000000")
    cmp_cmd = [r1eval, "compare", before, out, "--json"]
    cmp = subprocess.run(cmp_cmd, capture_output=True, text=True)
    with open(os.path.join(args.out, "trl-compare.json"), "w") as f:
        f.write(cmp.stdout if cmp.returncode == 0 else json.dumps({"error": cmp.stderr.strip()}))
    with open(os.path.join(args.out, "trl-eval-run.json"), "w") as f:
        json.dump({"command": " ".join(cmd), "compare_command": " ".join(cmp_cmd)}, f, indent=2)
    log(f"TRL eval: {out}")


NUMBER = re.compile(r"\s*-?\d+\s*")


def per_problem(run_dir, strict):
    """pass@1 of each problem of an r1eval run: the share of its samples graded correct, and with
    `strict` only those whose extracted answer is a plain integer (not an expression such as
    "5 + 9", which the grader rightly finds equal to 14 but which skips the arithmetic)."""
    hits = {}
    for line in open(os.path.join(run_dir, "samples.jsonl")):
        r = json.loads(line)
        ok = r["correct"] and (not strict or NUMBER.fullmatch(r["extracted"] or "") is not None)
        hits.setdefault(r["problem_id"], []).append(1.0 if ok else 0.0)
    return {k: sum(v) / len(v) for k, v in hits.items()}


def paired(a, b, reps=10000, seed=0):
    """Mean of b - a over the common problems and its 95% bootstrap CI (problems resampled)."""
    keys = sorted(set(a) & set(b))
    d = [b[k] - a[k] for k in keys]
    rng = random.Random(seed)
    means = sorted(sum(rng.choice(d) for _ in d) / len(d) for _ in range(reps))
    return {"problems": len(d), "pass1_a": sum(a[k] for k in keys) / len(d),
            "pass1_b": sum(b[k] for k in keys) / len(d), "diff": sum(d) / len(d),
            "ci95": [means[int(0.025 * reps)], means[int(0.975 * reps) - 1]]}


def strict_scores(args):
    """Every held-out run against r1's step 0, with all correct answers and with integers only."""
    evals = os.path.join(args.out, "r1", "evals")
    steps = sorted(os.listdir(evals))
    runs = {"r1 " + s: os.path.join(evals, s) for s in steps[1:]}
    if os.path.exists(os.path.join(args.out, "trl-eval", "samples.jsonl")):
        runs["TRL"] = os.path.join(args.out, "trl-eval")
    base = os.path.join(evals, steps[0])
    out = {name: {"all": paired(per_problem(base, False), per_problem(d, False)),
                  "integer_only": paired(per_problem(base, True), per_problem(d, True))}
           for name, d in runs.items()}
    with open(os.path.join(args.out, "paired.json"), "w") as f:
        json.dump({"baseline": base, "runs": out}, f, indent=2)
    for name, r in out.items():
        for kind, v in r.items():
            log(f"{name} vs step 0 ({kind}): {v['pass1_a']:.4f} -> {v['pass1_b']:.4f}, "
                f"diff {v['diff']:+.4f}, 95% CI [{v['ci95'][0]:+.4f}, {v['ci95'][1]:+.4f}]")


# --- plot ------------------------------------------------------------------------------------------

def r1_series(args):
    rows = [json.loads(l) for l in open(os.path.join(args.out, "r1", "metrics.jsonl"))]
    rows = [r for r in rows if "reward" in r]
    return {"reward": [(r["step"], r["reward"]) for r in rows], "kl": [(r["step"], r["kl"]) for r in rows],
            "accuracy": [(r["step"], r["reward/accuracy"]) for r in rows]}


def trl_series(args):
    rows = [json.loads(l) for l in open(os.path.join(args.out, "trl-metrics.jsonl"))]
    return {"reward": [(r["step"], r["reward"]) for r in rows],
            "kl": [(r["step"], r.get("kl", 0.0)) for r in rows],
            "accuracy": [(r["step"], r["rewards/accuracy/mean"]) for r in rows]}


def svg_panel(x0, title, series, w=360, h=240):
    """One chart: a polyline per (label, colour, points), axes with min/max labels."""
    pts = [p for _, _, s in series for p in s]
    xmax = max(p[0] for p in pts) or 1
    ymin, ymax = min(0.0, min(p[1] for p in pts)), max(p[1] for p in pts)
    ymax = ymax if ymax > ymin else ymin + 1
    L, T, W, H = x0 + 50, 30, w - 70, h - 70
    sx = lambda x: L + W * x / xmax
    sy = lambda y: T + H * (1 - (y - ymin) / (ymax - ymin))
    out = [f'<text x="{L + W / 2}" y="18" text-anchor="middle" font-size="13">{title}</text>',
           f'<rect x="{L}" y="{T}" width="{W}" height="{H}" fill="none" stroke="#999"/>',
           f'<text x="{L - 4}" y="{T + 4}" text-anchor="end" font-size="10">{ymax:.3g}</text>',
           f'<text x="{L - 4}" y="{T + H}" text-anchor="end" font-size="10">{ymin:.3g}</text>',
           f'<text x="{L}" y="{T + H + 14}" font-size="10">0</text>',
           f'<text x="{L + W}" y="{T + H + 14}" text-anchor="end" font-size="10">{xmax}</text>',
           f'<text x="{L + W / 2}" y="{T + H + 28}" text-anchor="middle" font-size="11">step</text>']
    for k, (label, colour, s) in enumerate(series):
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in s)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        out.append(f'<text x="{L + 8}" y="{T + 14 + 13 * k}" font-size="11" fill="{colour}">{label}</text>')
    return out


def plot(args):
    r1, trl = r1_series(args), trl_series(args)
    body = []
    for k, (key, title) in enumerate((("reward", "mean reward (accuracy + 0.5 boxed)"),
                                      ("accuracy", "accuracy reward"), ("kl", "KL to the initial model"))):
        body += svg_panel(360 * k, title, [("r1train grpo", "#1f77b4", r1[key]),
                                           ("TRL GRPOTrainer", "#ff7f0e", trl[key])])
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="1080" height="240" font-family="sans-serif">'
           + "".join(body) + "</svg>\n")
    path = os.path.join(args.out, "curves.svg")
    with open(path, "w") as f:
        f.write(svg)
    log(f"plot: {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--out", required=True, help="results (committed): data, metrics, compare, SVG")
    ap.add_argument("--work", default="/tmp/grpo-real-smollm2", help="large files: checkpoints, HF model")
    ap.add_argument("--only", default="data,r1,trl,trl-eval,paired,plot")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--trl-steps", type=int, default=0, help="TRL's steps (0 = --steps)")
    ap.add_argument("--G", type=int, default=8)
    ap.add_argument("--P", type=int, default=2)
    ap.add_argument("--L", type=int, default=96)
    ap.add_argument("--T", type=float, default=0.7, help="sampling temperature of training")
    ap.add_argument("--beta", type=float, default=0.04)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--train", type=int, default=1000)
    ap.add_argument("--heldout", type=int, default=100)
    ap.add_argument("--eval-samples", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--r1-bin", default=os.path.join(ROOT, "build", "bin"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.work, exist_ok=True)
    parts = args.only.split(",")
    if "data" in parts:
        write_data(args.out, args.seed, args.train, args.heldout)
    if "r1" in parts:
        run_r1(args)
    if "trl" in parts:
        run_trl(args)
    if "trl-eval" in parts:
        eval_trl(args)
    if "paired" in parts:
        strict_scores(args)
    if "plot" in parts:
        plot(args)


if __name__ == "__main__":
    main()
