"""Parity of r1 with the reference implementations on the two real trained GGUF models that set-up
fetches (scripts/fetch_models.sh): SmolLM2-135M-Instruct (llama, Q4_1/Q8_0) and Qwen2.5-Coder-0.5B-Instruct
(qwen2, Q4_K/Q5_0/Q6_K/Q8_0).

Run from the repo root:  .venv/bin/python tests/reference/check_gguf_models.py [--r1-bin build/bin]
        [--models ~/.cache/r1/models] [--tokens 64] [--only smollm2|qwen] [--forward smollm2,qwen]
Exit status 0 when every check holds, 1 otherwise.

Checks, per model:
  dequant   every tensor of the file, dequantized to float32 by r1 (`r1convert inspect --dequant-sha256`),
            equals gguf-py's gguf.quants.dequantize bit for bit (sha256 of the float32 bytes)
  greedy    r1's greedy continuation (`r1gen --temperature 0 --ignore-eos --json`, float32) of a text prompt and
            of a chat prompt (rendered by transformers' apply_chat_template) equals transformers'
            (AutoModelForCausalLM.from_pretrained(dir, gguf_file=...), float32): transformers runs one forward
            over prompt + r1's tokens and each of r1's tokens must be its argmax there (greedy decoding is
            exactly that, step by step)
  logprobs  r1's log-prob of each generated token is within 1e-4 of transformers' log_softmax
  convert   (SmolLM2: llama, so llama.cpp's Q/K permutation is crossed both ways) `r1convert to-hf` gives a
            directory transformers loads with the logits and token ids it gets from the GGUF file; `r1convert
            to-gguf` of that directory (F32) is read by gguf-py's GGUFReader, and transformers loads it with
            the same logits and ids again
  chat      for both models, `r1tok chat` renders the GGUF's own chat template (r1's Jinja engine) to the
            prompt text transformers' apply_chat_template gives, on a single turn and on a conversation with a
            system turn, history, unicode and the generation prompt on and off
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
from gguf import GGUFReader
from gguf.quants import dequantize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = [
    ("smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    ("qwen", "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"),
]
TEXT_PROMPT = "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n"
CHAT_MESSAGE = "What is the sum of the first 10 positive odd numbers? Answer briefly."
LOGPROB_TOL = 1e-4


def log(msg):
    print(msg, flush=True)


def check_dequant(r1bin, path):
    out = subprocess.run([os.path.join(r1bin, "r1convert"), "inspect", path, "--dequant-sha256"],
                         check=True, capture_output=True, text=True).stdout
    r1 = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 4:
            r1[parts[0]] = parts[3]
    bad = []
    reader = GGUFReader(path)
    for t in reader.tensors:
        ref = np.ascontiguousarray(dequantize(t.data, t.tensor_type), dtype=np.float32)
        if r1.get(t.name) != hashlib.sha256(ref.tobytes()).hexdigest():
            bad.append(f"{t.name} ({t.tensor_type.name})")
    log(f"  dequant   {len(reader.tensors) - len(bad)}/{len(reader.tensors)} tensors equal gguf-py"
        + (f"; differ: {', '.join(bad[:5])}" if bad else ""))
    return not bad


def r1_generate(r1bin, path, tokens, prompt):
    cmd = [os.path.join(r1bin, "r1gen"), "--model", path, "--temperature", "0", "--ignore-eos",
           "--max-new-tokens", str(tokens), "--json", "--dtype", "float32", "--prompt", prompt]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def check_greedy(name, model, prompt_ids, sample):
    gen = sample["ids"]
    ids = torch.tensor([prompt_ids + gen])
    with torch.no_grad():
        logits = model(ids).logits[0].float()
    logp = torch.log_softmax(logits, dim=-1)
    n = len(prompt_ids)
    ok, worst, first_bad = True, 0.0, None
    for i, tok in enumerate(gen):
        row = logp[n - 1 + i]
        top2 = torch.topk(row, 2)
        if int(top2.indices[0]) != tok and first_bad is None:
            first_bad = (i, tok, int(top2.indices[0]), float(top2.values[0] - top2.values[1]))
        worst = max(worst, abs(float(row[tok]) - sample["logprobs"][i]))
    if first_bad is not None:
        i, tok, ref, gap = first_bad
        log(f"  greedy    {name}: token {i} is {tok}, transformers' argmax {ref} (margin {gap:.2e})")
        ok = False
    else:
        log(f"  greedy    {name}: {len(gen)} tokens equal transformers' argmax at every step")
    log(f"  logprobs  {name}: max |r1 - transformers| = {worst:.2e} (tolerance {LOGPROB_TOL})")
    return ok and worst <= LOGPROB_TOL


def logits_of(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].float()


def check_convert(r1bin, path, model, tok):
    import tempfile
    from transformers import AutoModelForCausalLM, AutoTokenizer
    ok = True
    ids = tok(TEXT_PROMPT).input_ids
    want = logits_of(model, ids)
    with tempfile.TemporaryDirectory() as tmp:
        hf_dir, gguf = os.path.join(tmp, "hf"), os.path.join(tmp, "back.gguf")
        subprocess.run([os.path.join(r1bin, "r1convert"), "to-hf", path, "--out", hf_dir, "--dtype", "float32"],
                       check=True, capture_output=True)
        m = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).eval()
        t = AutoTokenizer.from_pretrained(hf_dir)
        d = float((logits_of(m, ids) - want).abs().max())
        same_ids = t(TEXT_PROMPT).input_ids == ids and t(CHAT_MESSAGE).input_ids == tok(CHAT_MESSAGE).input_ids
        log(f"  convert   to-hf: transformers loads it; max |logit diff| {d:.1e}, token ids "
            f"{'equal' if same_ids else 'DIFFER'}")
        ok &= d <= 1e-4 and same_ids
        subprocess.run([os.path.join(r1bin, "r1convert"), "to-gguf", hf_dir, "--out", gguf, "--type", "f32"],
                       check=True, capture_output=True)
        n = len(GGUFReader(gguf).tensors)
        m2 = AutoModelForCausalLM.from_pretrained(tmp, gguf_file="back.gguf", dtype=torch.float32).eval()
        t2 = AutoTokenizer.from_pretrained(tmp, gguf_file="back.gguf")
        d2 = float((logits_of(m2, ids) - want).abs().max())
        same2 = t2(TEXT_PROMPT).input_ids == ids and t2(CHAT_MESSAGE).input_ids == tok(CHAT_MESSAGE).input_ids
        log(f"  convert   to-gguf: gguf-py reads {n} tensors; transformers loads it; max |logit diff| {d2:.1e}, "
            f"token ids {'equal' if same2 else 'DIFFER'}")
        ok &= d2 <= 1e-4 and same2
    return ok


def check_model(key, fname, args):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    path = os.path.join(args.models, fname)
    log(f"{key}: {path}")
    ok = check_dequant(args.r1_bin, path)
    tok = AutoTokenizer.from_pretrained(args.models, gguf_file=fname)
    if args.forward is not None and key not in args.forward.split(","):
        log("  greedy, logprobs: skipped (--forward); the chat template is still checked")
        return ok & check_chat(args.r1_bin, path, tok)
    t = time.time()
    model = AutoModelForCausalLM.from_pretrained(args.models, gguf_file=fname, dtype=torch.float32).eval()
    log(f"  (transformers loaded it in {time.time() - t:.0f} s)")
    chat_text = tok.apply_chat_template([{"role": "user", "content": CHAT_MESSAGE}], tokenize=False,
                                        add_generation_prompt=True)
    for label, text in (("text", TEXT_PROMPT), ("chat", chat_text)):
        sample = r1_generate(args.r1_bin, path, args.tokens, text)
        prompt_ids = tok(text).input_ids
        ok &= check_greedy(label, model, prompt_ids, sample)
    if key == "smollm2":
        ok &= check_convert(args.r1_bin, path, model, tok)
    ok &= check_chat(args.r1_bin, path, tok)
    return ok


CHATS = [
    [{"role": "user", "content": CHAT_MESSAGE}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi \u00e9 \U0001F600"},
     {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "  Sum 2 and 3.  "}],
]


def check_chat(r1_bin, path, tok):
    ok = True
    for i, chat in enumerate(CHATS):
        for gen in (True, False):
            want = tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=gen)
            cmd = [os.path.join(r1_bin, "r1tok"), "chat", "--tokenizer", path] + ([] if gen else ["--no-generation-prompt"])
            got = subprocess.run(cmd, input=json.dumps(chat), check=True, capture_output=True, text=True).stdout
            same = got == want
            log(f"  chat {i} gen={int(gen)} r1's rendering of the GGUF's chat template "
                f"{'equals' if same else 'DIFFERS from'} transformers'" + ("" if same else f": {got!r} vs {want!r}"))
            ok &= same
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--r1-bin", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--models", default=os.path.join(os.environ.get("R1_CACHE", os.path.expanduser("~/.cache/r1")),
                                                     "models"))
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--only", choices=[k for k, _ in MODELS])
    ap.add_argument("--forward", help="comma-separated models whose forward pass is compared (greedy, "
                                      "logprobs, convert); default all. The others' dequantization "
                                      "and chat template are still checked")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()
    ok = True
    for key, fname in MODELS:
        if args.only and key != args.only:
            continue
        if not os.path.exists(os.path.join(args.models, fname)):
            log(f"{key}: {fname} is missing from {args.models} (run scripts/fetch_models.sh)")
            ok = False
            continue
        ok &= check_model(key, fname, args)
    log("ALL OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
