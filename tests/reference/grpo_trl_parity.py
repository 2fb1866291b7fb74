"""GRPO steps on a real model, r1 against TRL's GRPOTrainer on the same batches (issue 20, points 4
and 6).

r1train grpo runs STEPS steps on the model (a GGUF file: SmolLM2-135M-Instruct by default) with
--dump-batches, which writes each step's training batch: the prompt and completion token ids r1
sampled, their rewards and advantages, and r1's per-token log-probs before the update. TRL's
GRPOTrainer (the pinned trl, requirements.txt) then trains the same model, loaded by transformers
from the same GGUF file (float32; or, --trl-load converted, from r1convert's float32 checkpoint of
it), on exactly those batches: its _generate_and_score_completions is
replaced by one that returns r1's batch of that step (prompt left-padded, completion right-padded,
r1's advantages, and reference log-probs of the initial model computed by TRL's own
_get_per_token_logps_and_entropies). Everything else is TRL's: its log-probs, its loss (DAPO
normalisation, clipping, the k3 KL), HF Trainer's backward, gradient clipping and AdamW.

Compared, step by step: the loss, the KL, the gradient norm; and at step 1 the per-token log-probs
of every completion token (r1's policy before the update against transformers' forward).
Later steps' losses and KLs follow the weights each trainer updated, so they also check the update.

Run from the repository root:
  OMP_NUM_THREADS=2 .venv/bin/python tests/reference/grpo_trl_parity.py --out /tmp/grpo-trl \
      [--model ~/.cache/r1/models/SmolLM2-135M-Instruct.Q4_1.gguf] [--steps 3] [--check]
--check exits non-zero when a loss, KL or gradient norm differs by more than --rtol (relative; a
difference under --abs-floor passes), or a log-prob by more than --atol, or a step's loss is 0 in
both after step 1 (nothing compared). Writes OUT/parity.json.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_MODEL = os.path.expanduser("~/.cache/r1/models/SmolLM2-135M-Instruct.Q4_1.gguf")


def log(msg):
    print(f"grpo_trl_parity: {msg}", file=sys.stderr, flush=True)


def write_prompts(path, n, seed):
    """Short arithmetic word problems with boxed answers (the same file for both trainers)."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        for _ in range(n):
            a, b = rng.randint(10, 99), rng.randint(10, 99)
            f.write(json.dumps({"prompt": f"What is {a} + {b}? Put the final answer in \\boxed{{}}.",
                                "answer": str(a + b)}) + "\n")


def run_r1(args, prompts, out):
    cmd = [os.path.join(args.r1_bin, "r1train"), "grpo", "--model", args.model, "--prompts", prompts,
           "--out", out, "--steps", str(args.steps), "--num-generations", str(args.G),
           "--prompts-per-step", str(args.prompts_per_step), "--max-new-tokens", str(args.max_new_tokens),
           "--temperature", "1.0", "--beta", str(args.beta), "--loss-type", "dapo", "--lr", str(args.lr),
           "--min-lr-ratio", "1", "--warmup-steps", "0", "--micro-batch", str(args.G * args.prompts_per_step),
           "--rewards", "accuracy:1.0,length:0.5", "--clip", "1.0", "--seed", str(args.seed),
           "--dump-batches", "--threads", str(args.threads)]
    t0 = time.time()
    subprocess.run(cmd, check=True)
    return time.time() - t0, cmd


def load_batches(out, steps):
    batches = []
    for s in range(1, steps + 1):
        with open(os.path.join(out, "batches", f"step-{s:06d}.json")) as f:
            batches.append(json.load(f))
    return batches


def trl_inputs(batch, pad_id):
    """r1's batch as TRL's _generate_and_score_completions returns it."""
    rows = batch["completions"]
    P = max(len(r["prompt_ids"]) for r in rows)
    C = max(len(r["completion_ids"]) for r in rows)
    prompt_ids = torch.full((len(rows), P), pad_id, dtype=torch.long)
    prompt_mask = torch.zeros((len(rows), P), dtype=torch.long)
    completion_ids = torch.full((len(rows), C), pad_id, dtype=torch.long)
    completion_mask = torch.zeros((len(rows), C), dtype=torch.long)
    for i, r in enumerate(rows):
        p, c = r["prompt_ids"], r["completion_ids"]
        prompt_ids[i, P - len(p):] = torch.tensor(p)
        prompt_mask[i, P - len(p):] = 1
        completion_ids[i, :len(c)] = torch.tensor(c)
        completion_mask[i, :len(c)] = 1
    return {"prompt_ids": prompt_ids, "prompt_mask": prompt_mask, "completion_ids": completion_ids,
            "completion_mask": completion_mask,
            "advantages": torch.tensor([r["advantage"] for r in rows], dtype=torch.float32),
            "num_items_in_batch": completion_mask.sum()}


def logps_of(trainer, model, inputs):
    ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], dim=1)
    mask = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], dim=1)
    with torch.no_grad():
        lp, _, *_ = trainer._get_per_token_logps_and_entropies(model, ids, mask, inputs["completion_ids"].size(1))
    return lp


def dequantized(model):
    """transformers loads a GGUF file dequantized to float32 but marks the model quantized, and HF
    Trainer refuses to fine-tune such a model: its weights are plain float32 tensors, so the mark
    is dropped."""
    model.is_quantized = False
    model.hf_quantizer = None
    return model


def run_trl(args, prompts, batches):
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    if args.trl_load == "converted":
        # r1convert's float32 checkpoint of the same GGUF file: transformers reads it in a second
        # where its own GGUF reader dequantizes for ~40 s. gguf_models_parity checks that the two
        # give the same logits, bit for bit, and the same token ids.
        hf_dir = os.path.join(args.out, "hf")
        shutil.rmtree(hf_dir, ignore_errors=True)  # a rerun's: r1convert refuses a non-empty --out
        conv = subprocess.run([os.path.join(args.r1_bin, "r1convert"), "to-hf", args.model, "--out", hf_dir,
                               "--dtype", "float32"], capture_output=True, text=True)
        if conv.returncode != 0:
            sys.exit(f"grpo_trl_parity: r1convert to-hf failed: {conv.stderr.strip()}")
        tok = AutoTokenizer.from_pretrained(hf_dir)
        model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32)
    else:
        d, f = os.path.dirname(args.model), os.path.basename(args.model)
        tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
        model = dequantized(AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32))
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    rows = [json.loads(l) for l in open(prompts)]
    data = Dataset.from_list([{"prompt": r["prompt"]} for r in rows])
    n = args.G * args.prompts_per_step
    config = GRPOConfig(
        output_dir=os.path.join(args.out, "trl"), per_device_train_batch_size=n, num_generations=args.G,
        gradient_accumulation_steps=1, steps_per_generation=1, max_steps=args.steps, learning_rate=args.lr,
        lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0, adam_beta1=0.9, adam_beta2=0.999,
        adam_epsilon=1e-8, max_grad_norm=1.0, beta=0.0, loss_type="dapo", epsilon=0.2,
        temperature=1.0, max_completion_length=args.max_new_tokens, logging_steps=1, report_to=[],
        use_cpu=True, save_strategy="no", seed=args.seed, num_iterations=1, bf16=False,
        dataloader_num_workers=0)
    trainer = GRPOTrainer(model=model, reward_funcs=[lambda completions, **kw: [0.0] * len(completions)],
                          args=config, train_dataset=data, processing_class=tok)
    # beta is set after construction: with beta > 0 TRL would load its own reference model from the
    # checkpoint's path (a GGUF file's folder it cannot read); the reference log-probs are given
    # with each batch instead (the initial model's, through TRL's own log-prob function).
    trainer.beta = args.beta
    queue = [trl_inputs(b, pad_id) for b in batches]
    # Reference log-probs: the initial model's, i.e. the trainer's before it trains.
    for inputs in queue:
        inputs["ref_per_token_logps"] = logps_of(trainer, trainer.model, inputs)
    first_logps = queue[0]["ref_per_token_logps"].clone()
    if args.beta == 0.0:
        for inputs in queue:
            del inputs["ref_per_token_logps"]
    served = []

    def generate(_):
        served.append(time.time())
        return queue[len(served) - 1]

    trainer._generate_and_score_completions = generate
    t0 = time.time()
    trainer.train()
    wall = time.time() - t0
    logs = [h for h in trainer.state.log_history if "loss" in h and "train_runtime" not in h]
    return logs, first_logps, wall


def compare(args, batches, logs, first_logps):
    steps = []
    worst = {"loss": 0.0, "kl": 0.0, "grad_norm": 0.0}  # relative, or 0 within the absolute floor
    for b, h in zip(batches, logs):
        row = {"step": b["step"]}
        for key in worst:
            r1v, trlv = b.get(key), h.get(key)
            row[key] = {"r1": r1v, "trl": trlv}
            if r1v is None or trlv is None:
                continue
            diff = abs(r1v - trlv)
            row[key]["abs"] = diff
            row[key]["rel"] = diff / max(abs(trlv), 1e-12)
            # The KL of a barely moved policy is a difference of nearly equal numbers (1e-4 to 1e-3
            # at step 2-3): its relative error is float32 noise, so an absolute floor applies.
            if diff > args.abs_floor:
                worst[key] = max(worst[key], row[key]["rel"])
        steps.append(row)
    # Step 1's per-token log-probs: r1's dump against transformers' forward (completion order kept).
    diffs = []
    for i, r in enumerate(batches[0]["completions"]):
        trl_row = first_logps[i, :len(r["logps"])].tolist()
        diffs += [abs(a - b) for a, b in zip(r["logps"], trl_row)]
    return {"steps": steps, "worst_rel": worst, "logps_step1": {
        "tokens": len(diffs), "max_abs_diff": max(diffs) if diffs else None,
        "mean_abs_diff": sum(diffs) / len(diffs) if diffs else None}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--G", type=int, default=4)
    ap.add_argument("--prompts-per-step", type=int, default=2)
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--beta", type=float, default=0.04)
    ap.add_argument("--lr", type=float, default=1e-5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--r1-bin", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--trl-load", choices=["gguf", "converted"], default="gguf",
                    help="how transformers loads the model for TRL: from the GGUF file, or from "
                         "r1convert to-hf's float32 checkpoint of it (faster; the CI slice)")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--atol", type=float, default=1e-3, help="per-token log-prob tolerance")
    ap.add_argument("--abs-floor", type=float, default=1e-5,
                    help="loss, KL, gradient norm: differences below this pass whatever rtol says")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    prompts = os.path.join(args.out, "prompts.jsonl")
    write_prompts(prompts, 64, args.seed)
    r1_out = os.path.join(args.out, "r1")
    if os.path.exists(r1_out):
        subprocess.run(["rm", "-rf", r1_out], check=True)
    log("r1train grpo")
    r1_wall, cmd = run_r1(args, prompts, r1_out)
    batches = load_batches(r1_out, args.steps)
    log("TRL GRPOTrainer on r1's batches")
    logs, first_logps, trl_wall = run_trl(args, prompts, batches)
    result = compare(args, batches, logs, first_logps)
    result.update({"model": args.model, "r1_command": " ".join(cmd), "r1_wall_s": r1_wall,
                   "trl_train_wall_s": trl_wall})
    with open(os.path.join(args.out, "parity.json"), "w") as f:
        json.dump(result, f, indent=2)
    for s in result["steps"]:
        print("step {step}: loss r1 {l[r1]!r} trl {l[trl]!r}; kl r1 {k[r1]!r} trl {k[trl]!r}; "
              "grad_norm r1 {g[r1]!r} trl {g[trl]!r}".format(step=s["step"], l=s["loss"], k=s["kl"],
                                                              g=s["grad_norm"]))
    lp = result["logps_step1"]
    print(f"step 1 log-probs: {lp['tokens']} tokens, max |diff| {lp['max_abs_diff']:.3g}, "
          f"mean {lp['mean_abs_diff']:.3g}")
    if args.check:
        bad = [k for k, v in result["worst_rel"].items() if v > args.rtol]
        if lp["max_abs_diff"] is None or lp["max_abs_diff"] > args.atol:
            bad.append("logps")
        if len(result["steps"]) != args.steps:
            bad.append(f"TRL logged {len(result['steps'])} steps")
        if all(s["loss"]["r1"] == 0 for s in result["steps"]):
            bad.append("every step's loss is 0 (no group with different rewards): nothing compared")
        if bad:
            print(f"FAIL: {bad} beyond rtol {args.rtol} / atol {args.atol}")
            sys.exit(1)
        print("OK")


if __name__ == "__main__":
    main()
