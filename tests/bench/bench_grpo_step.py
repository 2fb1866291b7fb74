"""Seconds per GRPO step, r1 (`r1train grpo`) vs TRL's `GRPOTrainer`, on CPU, one after the other in
one run, on the same random-init tiny Qwen2 checkpoint of the built-in R1-Zero task
(`r1train zero --until assets --model-size SIZE`: its model with its own tokenizer.json and DeepSeek-R1
chat template, and its grpo.jsonl {"prompt", "answer"} rows).

Both sides: G completions for each of P prompts per optimiser step (TRL: per_device_train_batch_size
P*G, steps_per_generation 1, gradient_accumulation_steps 1; r1: --micro-batch P*G, so each side does
one forward/backward over the P*G completions), at most L new tokens, temperature 1, no top-p/top-k,
beta 0 (no reference model), num_iterations 1, loss "dapo" (TRL 1.16's default), float32, rewards
accuracy (last \\boxed{} == answer) x1.0 + format x0.5, T torch threads. The prompts are rendered with
the checkpoint's chat template on both sides (TRL gets conversational prompts); the script checks
that the prompt ids are identical. Neither side is forced past EOS (r1train grpo has no flag for
it); a random model emits EOS now and then, so each side's completion lengths are printed and
seconds per 1k completion tokens are reported next to seconds per step.

Step time: r1's `time/step` from metrics.jsonl; TRL's on_step_begin -> on_step_end of a
TrainerCallback (generation, rewards, loss, backward, optimiser step; logging after the step excluded on
both sides). The first --warmup steps are left out; medians over the rest. Phases: r1's own
time/generate, time/reward, time/logprobs, time/update; TRL's from timers wrapped around its
`_generate` and `_calculate_rewards` (update = the rest of the step). CPU s/step: the process's
user+system CPU over the whole run (r1: the r1train subprocess, start-up included; TRL: train()) / steps,
warm-up included. Needs an otherwise idle machine: with T threads on T cores, any other busy process
stalls LibTorch's OpenMP threads (both sides) and single steps take 10-40x longer; --rounds R repeats
r1-then-TRL R times (medians of the rounds' medians) and the JSON keeps every step's time.

Run from the repo root (after scripts/build.sh; needs only build/bin/r1train and .venv):
  .venv/bin/python tests/bench/bench_grpo_step.py [--sizes tiny,micro] [--num-generations 8]
      [--prompts-per-step 4] [--max-new-tokens 64] [--steps 12] [--warmup 2] [--threads 2]
      [--rounds 3] [--json-out FILE]
Timings are machine-dependent; compare only within one run.
"""
import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REWARDS = "accuracy:1.0,format:0.5"


def run(cmd, env=None, stdin=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, input=stdin)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def thread_env(threads):
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = str(threads)
    return env


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def load_rows(path, limit):
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
            if len(rows) == limit:
                break
    return rows


# --- r1 --------------------------------------------------------------------------------------------

def r1_prompt_ids(r1train, model, problems):
    """The prompt ids r1 trains on: the checkpoint's chat template, then tokenizer.json without
    post-processor specials (the rendered prompt carries its BOS), as rl/grpo_data.cpp does."""
    r1tok = os.path.join(os.path.dirname(r1train), "r1tok")
    out = []
    for p in problems:
        text = run([r1tok, "chat", "--tokenizer", model],
                   stdin=json.dumps([{"role": "user", "content": p}]))
        out.append(json.loads(run([r1tok, "encode", "--tokenizer", model], stdin=text)))
    return out


def bench_r1(args, model, prompts, out):
    P, G = args.prompts_per_step, args.num_generations
    cmd = [args.r1train, "grpo", "--model", model, "--prompts", prompts, "--out", out,
           "--num-generations", str(G), "--prompts-per-step", str(P),
           "--max-new-tokens", str(args.max_new_tokens), "--steps", str(args.steps),
           "--threads", str(args.threads), "--rewards", REWARDS, "--beta", "0",
           "--num-iterations", "1", "--loss-type", "dapo", "--temperature", "1.0",
           "--top-p", "1", "--top-k", "0", "--lr", str(args.lr), "--seed", str(args.seed),
           "--micro-batch", str(args.micro_batch or P * G), "--max-batch", str(max(64, P * G)),
           "--dtype", "float32", "--keep-last", "1"]
    t0, cpu0 = time.perf_counter(), children_cpu()
    run(cmd, env=thread_env(args.threads))
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    steps = []
    with open(os.path.join(out, "metrics.jsonl")) as f:
        for line in f:
            d = json.loads(line)
            if "time/step" in d:
                steps.append(d)
    timed = steps[args.warmup:]
    res = {
        "cmd": " ".join(cmd),
        "wall_s": wall,
        "cpu_s_per_step": cpu / len(steps),
        "step_s": [d["time/step"] for d in steps],
        "mean_length": [d["completions/mean_length"] for d in steps],
        "tokens": [d["tokens"] for d in steps],
    }
    for k in ("generate", "reward", "logprobs", "update"):
        res[k + "_s"] = median([d["time/" + k] for d in timed])
    res["s_step"] = median([d["time/step"] for d in timed])
    res["s_per_1k_tokens"] = median([d["time/step"] / d["tokens"] * 1000 for d in timed])
    res["mean_len"] = statistics.mean(d["completions/mean_length"] for d in timed)
    return res


# --- TRL -------------------------------------------------------------------------------------------

BOXED = re.compile(r"\\boxed\{")


def last_boxed(text):
    """Contents of the last \\boxed{...} (balanced braces), or None."""
    starts = [m.end() for m in BOXED.finditer(text)]
    if not starts:
        return None
    i, depth = starts[-1], 1
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i:j]
    return None


def completion_text(c):
    return c[-1]["content"] if isinstance(c, list) else c


def accuracy_reward(completions, answer, **kwargs):
    out = []
    for c, a in zip(completions, answer):
        text = completion_text(c)
        think_end = text.find("</think>")
        got = last_boxed(text[think_end + len("</think>"):]) if think_end >= 0 else None
        out.append(1.0 if got is not None and got.strip() == str(a).strip() else 0.0)
    return out


FORMAT = re.compile(r"\s*<think>(.*?)</think>(.*)", re.S)


def format_reward(completions, completion_ids=None, max_len=None, **kwargs):
    """r1's format reward (rl/rewards.h): "<think>" (opened by the template) + completion has exactly
    one think block with non-blank reasoning, a non-blank answer after it, and was not cut at the limit."""
    out = []
    for k, c in enumerate(completions):
        text = "<think>" + completion_text(c)
        m = FORMAT.fullmatch(text)
        ok = (m is not None and text.count("<think>") == 1 and text.count("</think>") == 1
              and m.group(1).strip() != "" and m.group(2).strip() != "")
        if completion_ids is not None and max_len is not None and len(completion_ids[k]) >= max_len:
            ok = False
        out.append(1.0 if ok else 0.0)
    return out


def bench_trl(args, model_dir, prompts_path, out, problems_check):
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from transformers.trainer_callback import PrinterCallback
    from trl import GRPOConfig, GRPOTrainer

    P, G, L = args.prompts_per_step, args.num_generations, args.max_new_tokens
    torch.set_num_threads(args.threads)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    rows = load_rows(prompts_path, max(1000, P * args.steps))
    ds = Dataset.from_list([{"prompt": [{"role": "user", "content": r["prompt"]}],
                             "answer": r["answer"]} for r in rows])
    ids = tok.apply_chat_template([[{"role": "user", "content": p}] for p in problems_check],
                                  add_generation_prompt=True, tokenize=True, return_dict=True)
    trl_ids = [list(x) for x in ids["input_ids"]]

    def fmt(completions, completion_ids=None, **kw):
        return format_reward(completions, completion_ids=completion_ids, max_len=L, **kw)
    fmt.__name__ = "format"
    accuracy_reward.__name__ = "accuracy"

    cfg = GRPOConfig(
        output_dir=out, use_cpu=True, bf16=False, fp16=False, seed=args.seed,
        per_device_train_batch_size=P * G, gradient_accumulation_steps=1, steps_per_generation=1,
        num_generations=G, max_completion_length=L, temperature=1.0, top_p=1.0, top_k=0,
        beta=0.0, num_iterations=1, loss_type="dapo", scale_rewards="group",
        reward_weights=[1.0, 0.5], learning_rate=args.lr, max_steps=args.steps,
        logging_steps=1, save_strategy="no", report_to="none", dataloader_num_workers=0,
        generation_kwargs={"min_new_tokens": L} if args.trl_force_length else None,
        disable_tqdm=True)

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.steps, self.cur = [], None

        def on_step_begin(self, a, state, control, **kw):
            self.cur = {"generate": 0.0, "reward": 0.0, "t0": time.perf_counter()}

        def on_step_end(self, a, state, control, **kw):
            self.cur["step"] = time.perf_counter() - self.cur.pop("t0")
            self.steps.append(self.cur)

    timer = StepTimer()
    trainer = GRPOTrainer(model=model, processing_class=tok, reward_funcs=[accuracy_reward, fmt],
                          args=cfg, train_dataset=ds, callbacks=[timer])
    trainer.remove_callback(PrinterCallback)  # its per-step log dicts on stdout

    def timed(name, fn):
        def wrapper(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                if timer.cur is not None:
                    timer.cur[name] += time.perf_counter() - t0
        return wrapper

    trainer._generate = timed("generate", trainer._generate)
    trainer._calculate_rewards = timed("reward", trainer._calculate_rewards)
    t0, cpu0 = time.perf_counter(), time.process_time()
    trainer.train()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    logs = [h for h in trainer.state.log_history if "completions/mean_length" in h]
    lengths = [h["completions/mean_length"] for h in logs]
    assert len(timer.steps) == args.steps and len(lengths) == args.steps, (len(timer.steps), len(lengths))
    timed_steps = list(zip(timer.steps, lengths))[args.warmup:]
    n_params = sum(p.numel() for p in model.parameters())
    return {
        "wall_s": wall,
        "cpu_s_per_step": cpu / args.steps,
        "threads_after": torch.get_num_threads(),
        "step_s": [s["step"] for s in timer.steps],
        "mean_length": lengths,
        "generate_s": median([s["generate"] for s, _ in timed_steps]),
        "reward_s": median([s["reward"] for s, _ in timed_steps]),
        "update_s": median([s["step"] - s["generate"] - s["reward"] for s, _ in timed_steps]),
        "s_step": median([s["step"] for s, _ in timed_steps]),
        "s_per_1k_tokens": median([s["step"] / (n * P * G) * 1000 for s, n in timed_steps]),
        "mean_len": statistics.mean(n for _, n in timed_steps),
        "prompt_ids": trl_ids,
        "params": n_params,
    }


# --- main ------------------------------------------------------------------------------------------

def bench_size(args, size, tmp):
    zero = os.path.join(tmp, "zero-" + size)
    run([args.r1train, "zero", "--until", "assets", "--model-size", size, "--out", zero,
         "--seed", str(args.seed)])
    model = os.path.join(zero, "assets", "model")
    prompts = os.path.join(zero, "assets", "grpo.jsonl")
    with open(os.path.join(model, "config.json")) as f:
        mc = json.load(f)
    check = [r["prompt"] for r in load_rows(prompts, 8)]
    r1_ids = r1_prompt_ids(args.r1train, model, check)

    load_before = os.getloadavg()
    rounds = []
    for k in range(args.rounds):
        print(f"[{size}] round {k + 1}/{args.rounds}: r1 ...", file=sys.stderr, flush=True)
        r1 = bench_r1(args, model, prompts, os.path.join(tmp, f"r1-{size}-{k}"))
        print(f"[{size}] round {k + 1}/{args.rounds}: TRL ...", file=sys.stderr, flush=True)
        trl = bench_trl(args, model, prompts, os.path.join(tmp, f"trl-{size}-{k}"), check)
        rounds.append((r1, trl))
    load_after = os.getloadavg()
    r1s = [r for r, _ in rounds]
    trls = [t for _, t in rounds]
    same_prompts = trls[0].pop("prompt_ids") == r1_ids
    for t in trls[1:]:
        t.pop("prompt_ids")
    agg = lambda rs, k: median([r[k] for r in rs])
    row = {
        "size": size,
        "params": trls[0]["params"],
        "config": {k: mc[k] for k in ("hidden_size", "intermediate_size", "num_hidden_layers",
                                      "num_attention_heads", "num_key_value_heads", "vocab_size")},
        "G": args.num_generations, "P": args.prompts_per_step, "L": args.max_new_tokens,
        "threads": args.threads, "steps": args.steps, "warmup": args.warmup, "rounds": args.rounds,
        "prompt_ids_identical": same_prompts,
        "prompt_tokens": [len(x) for x in r1_ids],
        "load_before": load_before, "load_after": load_after,
        "r1": {k: agg(r1s, k) for k in ("s_step", "s_per_1k_tokens", "generate_s", "reward_s",
                                         "logprobs_s", "update_s", "mean_len", "cpu_s_per_step")},
        "trl": {k: agg(trls, k) for k in ("s_step", "s_per_1k_tokens", "generate_s", "reward_s",
                                          "update_s", "mean_len", "cpu_s_per_step")},
        "r1_runs": r1s, "trl_runs": trls,
    }
    row["ratio_step"] = row["trl"]["s_step"] / row["r1"]["s_step"]
    row["ratio_1k_tokens"] = row["trl"]["s_per_1k_tokens"] / row["r1"]["s_per_1k_tokens"]
    return row


def print_table(rows):
    print("GRPO step time, r1 vs TRL GRPOTrainer %s, CPU, float32 (medians after warm-up)" % TRL_VERSION)
    for r in rows:
        c = r["config"]
        print(f"\n{r['size']}: {r['params'] / 1e6:.2f}M params (hidden {c['hidden_size']}, "
              f"{c['num_hidden_layers']} layers, vocab {c['vocab_size']}); G {r['G']}, P {r['P']}, "
              f"L {r['L']}, threads {r['threads']}, steps {r['steps']} ({r['warmup']} warm-up), "
              f"rounds {r['rounds']}; prompt ids identical: {r['prompt_ids_identical']} "
              f"({min(r['prompt_tokens'])}-{max(r['prompt_tokens'])} tokens); load "
              f"{r['load_before'][0]:.2f} -> {r['load_after'][0]:.2f}")
        print(f"    {'':6} {'s/step':>8} {'s/1k tok':>9} {'generate':>9} {'reward':>8} "
              f"{'logprobs':>9} {'update':>8} {'mean len':>9} {'CPU s/step':>11}")
        for name, d in (("r1", r["r1"]), ("TRL", r["trl"])):
            lp = f"{d['logprobs_s']:9.3f}" if "logprobs_s" in d else f"{'-':>9}"
            print(f"    {name:6} {d['s_step']:8.3f} {d['s_per_1k_tokens']:9.3f} {d['generate_s']:9.3f} "
                  f"{d['reward_s']:8.4f} {lp} {d['update_s']:8.3f} {d['mean_len']:9.1f} "
                  f"{d['cpu_s_per_step']:11.3f}")
        rr = lambda runs: " ".join(f"{x['s_step']:.3f}" for x in runs)
        print(f"    each round's s/step: r1 {rr(r['r1_runs'])}; TRL {rr(r['trl_runs'])}")
        print(f"    ratio TRL/r1: {r['ratio_step']:.2f}x per step, {r['ratio_1k_tokens']:.2f}x per 1k "
              f"completion tokens")


TRL_VERSION = ""


def main():
    global TRL_VERSION
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--r1train", default=os.path.join(ROOT, "build", "bin", "r1train"))
    ap.add_argument("--sizes", default="tiny,micro", help="comma-separated: micro, tiny, small")
    ap.add_argument("--num-generations", type=int, default=8)
    ap.add_argument("--prompts-per-step", type=int, default=4)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3, help="r1 then TRL, this many times (medians)")
    ap.add_argument("--lr", type=float, default=1e-5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--micro-batch", type=int, default=0, help="r1's --micro-batch (0 = P*G, as TRL)")
    ap.add_argument("--trl-force-length", action="store_true",
                    help="TRL: min_new_tokens = L (r1 cannot; off by default so both sample alike)")
    ap.add_argument("--json-out")
    ap.add_argument("--keep", action="store_true", help="keep the temporary run folders")
    args = ap.parse_args()
    if args.steps <= args.warmup:
        sys.exit("--steps must exceed --warmup")
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[k] = str(args.threads)
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import transformers
    import trl
    import torch
    TRL_VERSION = trl.__version__
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    tmp = tempfile.mkdtemp(prefix="bench_grpo_")
    try:
        rows = [bench_size(args, s.strip(), tmp) for s in args.sizes.split(",") if s.strip()]
    finally:
        if args.keep:
            print(f"run folders kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print_table(rows)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"trl": trl.__version__, "transformers": transformers.__version__,
                       "torch": torch.__version__, "cpus": os.cpu_count(), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
