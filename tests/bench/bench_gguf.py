"""r1 vs transformers on a real GGUF model, CPU, float32, side by side in one run: load time from
the GGUF file and from a safetensors checkpoint converted from it, decode tokens/s at batch 1
(greedy) and batch 16 (temperature 0.6, one prompt sampled 16 times), and batch-1 decode as a
fraction of the memory-bandwidth bound (weight bytes per token / measured read bandwidth).

Run: OMP_NUM_THREADS=2 .venv/bin/python tests/bench/bench_gguf.py [--smollm] [--rounds 3]
     [--new-tokens 64] [--prompt-len 32] [--batch 16] [--model FILE.gguf]
(needs build/bin/r1gen and build/bin/r1convert; about 8 minutes on 2 cores for the default
Qwen2.5-Coder-0.5B-Instruct Q4_K_M, plus ~1 minute for --smollm's SmolLM2-135M).

How each side is timed:
- r1: build/bin/r1gen --timings prints model and tokenizer load seconds and generate()'s wall time
  (prefill + decode) as one JSON line on stderr; every r1gen run is a fresh process.
- transformers: in a child process (after importing torch and transformers, not timed),
  AutoTokenizer + AutoModelForCausalLM.from_pretrained(..., dtype=torch.float32), with gguf_file=
  for the GGUF file; then generate() on the loaded model.
- the safetensors checkpoint: `r1convert to-hf FILE --out TMP --dtype float32` (deleted at the end).
- "+ first token": load, then generate one token for the batch-1 prompt (transformers loads a
  safetensors checkpoint lazily through mmap, so its load alone leaves the weights unread);
  "whole process": the same from process start to exit (imports, library loading, teardown).
- decode: B * N / (t(N + 1 new tokens) - t(1 new token)) at the same batch on each side, so the
  prefill and the first token (which comes from the prefill) are left out. EOS is ignored (r1gen
  --ignore-eos; generation_config.eos_token_id = None and min_new_tokens) so every row runs N steps.
  r1 decodes 16 samples of one prompt (--n 16: one prefill, K/V copied into 16 rows); transformers
  gets the prompt repeated 16 times; after the first token both decode 16 rows for N steps.
  r1 runs from the GGUF file; transformers decodes the converted checkpoint (the same float32
  weights; a GGUF load there costs about a minute). Best of --rounds rounds, r1 and transformers
  interleaved, because other jobs on a shared machine come and go.
- bandwidth bound: float32 parameter bytes read per decode step (every weight matrix and the LM
  head; the input embedding is a gather of one row, not counted, unless tied: then it is the LM head
  and counted once) / read bandwidth (torch sum over a 1 GiB float32 array, best of 5, same threads).
"""
import argparse
import importlib.metadata
import json
import os
import platform
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS_DIR = os.path.expanduser("~/.cache/r1/models")
QWEN = os.path.join(MODELS_DIR, "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf")
SMOLLM = os.path.join(MODELS_DIR, "SmolLM2-135M-Instruct.Q4_1.gguf")
R1GEN = os.path.join(ROOT, "build", "bin", "r1gen")
R1CONVERT = os.path.join(ROOT, "build", "bin", "r1convert")
TEMPERATURE = 0.6  # batch 16 (batch 1 is greedy)


# ----------------------------------------------------------------------------------------------
# transformers side: runs in a child process (python bench_gguf.py --hf-worker JSON)

def hf_worker(spec):
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(spec["threads"])
    path, gguf = spec["path"], spec.get("gguf_file")
    kw = {"gguf_file": gguf} if gguf else {}
    out = {}
    t0 = time.perf_counter()
    AutoTokenizer.from_pretrained(path, **kw)
    t1 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, **kw).eval()
    t2 = time.perf_counter()
    out.update(tokenizer_load_s=t1 - t0, model_load_s=t2 - t1, load_s=t2 - t0)
    model.generation_config.eos_token_id = None
    prompt = torch.tensor([spec["prompt"]])

    def gen(batch, n):
        ids = prompt.repeat(batch, 1)
        args = dict(do_sample=False) if batch == 1 else dict(
            do_sample=True, temperature=TEMPERATURE, top_p=1.0, top_k=0)
        t = time.perf_counter()
        with torch.inference_mode():
            o = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n,
                               min_new_tokens=n, pad_token_id=0, **args)
        s = time.perf_counter() - t
        assert o.shape == (batch, ids.shape[1] + n), o.shape
        return s

    out["first_token_s"] = gen(1, 1)  # cold: the first forward after the load
    new = spec["new_tokens"]
    for b in spec["batches"]:
        torch.manual_seed(0)
        t1 = gen(b, 1)
        tn = gen(b, new + 1)
        out[f"b{b}"] = dict(t1=t1, tn=tn, decode_tok_s=b * new / (tn - t1))
    print(json.dumps(out))


def run_hf(spec):
    t = time.perf_counter()
    r = subprocess.run([sys.executable, os.path.abspath(__file__), "--hf-worker", json.dumps(spec)],
                       check=True, capture_output=True, text=True)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - t  # start, imports, load, generate, exit
    return out


# ----------------------------------------------------------------------------------------------
# r1 side

def run_r1(model, prompt, batch, new, threads):
    cmd = [R1GEN, "--model", model, "--prompt-ids", ",".join(map(str, prompt)), "--max-new-tokens",
           str(new), "--ignore-eos", "--dtype", "float32", "--threads", str(threads), "--timings"]
    if batch == 1:
        cmd += ["--temperature", "0"]
    else:
        cmd += ["--n", str(batch), "--max-batch", str(batch), "--temperature", str(TEMPERATURE),
                "--top-p", "1", "--top-k", "0", "--seed", "0"]
    t = time.perf_counter()
    r = subprocess.run(cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t
    lines = [l for l in r.stderr.replace("\r", "\n").splitlines() if l.startswith("{")]
    j = json.loads(lines[-1])
    assert j["new_tokens"] == batch * new, (j, batch, new)
    j["process_s"] = wall
    return j


# ----------------------------------------------------------------------------------------------

def read_bandwidth_gbs(threads, gib=1.0, repeats=5):
    import torch
    torch.set_num_threads(threads)
    a = torch.ones(int(gib * 2**30) // 4, dtype=torch.float32)
    best = 1e30
    for _ in range(repeats):
        t = time.perf_counter()
        a.sum().item()
        best = min(best, time.perf_counter() - t)
    n = a.numel() * 4
    del a
    return n / best / 1e9


def safetensors_params(ckpt_dir):
    """{tensor name: element count} from the checkpoint's safetensors headers."""
    out = {}
    for f in sorted(os.listdir(ckpt_dir)):
        if f.endswith(".safetensors"):
            with open(os.path.join(ckpt_dir, f), "rb") as fh:
                (n,) = struct.unpack("<Q", fh.read(8))
                header = json.loads(fh.read(n))
            for name, e in header.items():
                if name != "__metadata__":
                    count = 1
                    for d in e["shape"]:
                        count *= d
                    out[name] = count
    return out


def warm_page_cache(path):
    with open(path, "rb") as f:
        while f.read(64 << 20):
            pass


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


BANDWIDTH = {"best": 0.0}


def bench_model(gguf, args):
    name = os.path.basename(gguf)
    warm_page_cache(gguf)
    tmp = tempfile.mkdtemp(prefix="bench_gguf_")
    try:
        t = time.perf_counter()
        subprocess.run([R1CONVERT, "to-hf", gguf, "--out", os.path.join(tmp, "ckpt"), "--dtype",
                        "float32"], check=True, capture_output=True, text=True)
        convert_s = time.perf_counter() - t
        ckpt = os.path.join(tmp, "ckpt")
        cfg = json.load(open(os.path.join(ckpt, "config.json")))
        rng = random.Random(0)
        prompt = [rng.randrange(0, min(cfg["vocab_size"], 100000)) for _ in range(args.prompt_len)]
        batches = [1, args.batch]
        n = args.new_tokens
        spec = dict(threads=args.threads, prompt=prompt, new_tokens=n)

        # bytes per decode step
        params = safetensors_params(ckpt)
        emb = params.get("model.embed_tokens.weight", 0)
        tied = "lm_head.weight" not in params
        total_params = sum(params.values())
        read_params = total_params if tied else total_params - emb
        bytes_per_tok = 4 * read_params

        # Decode, in rounds that interleave the two sides (other jobs on a shared machine come and
        # go): r1 from the GGUF file, a 1-token and an (N+1)-token r1gen run per batch, each run
        # loading the model (so they also time r1's GGUF load); transformers in one child process
        # per round, loading the converted checkpoint (a few seconds, instead of a GGUF load).
        r1_runs = {b: [] for b in batches}  # (1-token run, (N+1)-token run) per round
        hf_dec_runs = []
        for _ in range(args.rounds):
            r1_runs[1].append((run_r1(gguf, prompt, 1, 1, args.threads),
                               run_r1(gguf, prompt, 1, n + 1, args.threads)))
            hf_dec_runs.append(run_hf(dict(spec, path=ckpt, batches=batches)))
            for b in batches[1:]:
                r1_runs[b].append((run_r1(gguf, prompt, b, 1, args.threads),
                                   run_r1(gguf, prompt, b, n + 1, args.threads)))
        r1_dec = {b: max(b * n / (tn["generate_s"] - t1["generate_s"]) for t1, tn in r1_runs[b])
                  for b in batches}
        hf_dec = {b: max(h[f"b{b}"]["decode_tok_s"] for h in hf_dec_runs) for b in batches}
        r1_gguf_runs = [r for pairs in r1_runs.values() for pair in pairs for r in pair]
        r1_gguf = min(r1_gguf_runs, key=lambda r: r["load_s"])
        r1_gguf_first = min(t1["load_s"] + t1["generate_s"] for t1, _ in r1_runs[1])
        r1_gguf_process = min(t1["process_s"] for t1, _ in r1_runs[1])

        # Loads from the safetensors checkpoint: 1-token runs / processes.
        r1_st_runs = [run_r1(ckpt, prompt, 1, 1, args.threads) for _ in range(args.load_repeats)]
        hf_st_proc = [run_hf(dict(spec, path=ckpt, batches=[])) for _ in range(args.load_repeats)]
        hf_st_runs = hf_st_proc + hf_dec_runs
        r1_st = min(r1_st_runs, key=lambda r: r["load_s"])
        hf_st = min(hf_st_runs, key=lambda r: r["load_s"])
        r1_st_first = min(r["load_s"] + r["generate_s"] for r in r1_st_runs)
        hf_st_first = min(r["load_s"] + r["first_token_s"] for r in hf_st_runs)

        # transformers from the GGUF file: one load (tens of seconds), then one token.
        hf_g = run_hf(dict(spec, path=os.path.dirname(gguf), gguf_file=os.path.basename(gguf),
                           batches=[]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # The bandwidth again (other jobs may have been using it at the start): the best so far.
    bw_gbs = BANDWIDTH["best"] = max(BANDWIDTH["best"], read_bandwidth_gbs(args.threads))
    ideal_tok_s = bw_gbs * 1e9 / bytes_per_tok

    print(f"\n### {name}\n")
    print(f"{cfg['model_type']}, {cfg['num_hidden_layers']} layers, hidden {cfg['hidden_size']}, "
          f"vocab {cfg['vocab_size']}, tied embeddings: {tied}; {total_params / 1e6:.1f}M parameters "
          f"({emb / 1e6:.1f}M in the input embedding)")
    print(f"r1convert to-hf --dtype float32: {convert_s:.2f} s; prompt {args.prompt_len} ids, "
          f"{n} new tokens, threads {args.threads}")
    print(f"bytes read per batch-1 decode step: {bytes_per_tok / 1e9:.3f} GB "
          f"({read_params / 1e6:.1f}M float32 parameters, input embedding "
          f"{'counted once as the tied LM head' if tied else 'not counted (a gather)'}); "
          f"bound {bw_gbs:.1f} GB/s / {bytes_per_tok / 1e9:.3f} GB = {ideal_tok_s:.2f} tok/s\n")

    rows = []

    def t_row(label, r, h):  # times: speed-up = hf / r1
        rows.append((label, f"{r:.2f} s", f"{h:.2f} s", f"{h / r:.2f}x"))

    def r_row(label, r, h):  # rates: speed-up = r1 / hf
        rows.append((label, f"{r:.2f}", f"{h:.2f}", f"{r / h:.2f}x"))

    t_row("load GGUF: model + tokenizer", r1_gguf["load_s"], hf_g["load_s"])
    t_row("  model", r1_gguf["model_load_s"], hf_g["model_load_s"])
    t_row("  tokenizer", r1_gguf["tokenizer_load_s"], hf_g["tokenizer_load_s"])
    t_row("load GGUF + first token (B=1)", r1_gguf_first, hf_g["load_s"] + hf_g["first_token_s"])
    t_row("  whole process", r1_gguf_process, hf_g["process_s"])
    t_row("load safetensors: model + tokenizer", r1_st["load_s"], hf_st["load_s"])
    t_row("  model", r1_st["model_load_s"], hf_st["model_load_s"])
    t_row("  tokenizer", r1_st["tokenizer_load_s"], hf_st["tokenizer_load_s"])
    t_row("load safetensors + first token (B=1)", r1_st_first, hf_st_first)
    t_row("  whole process", min(r["process_s"] for r in r1_st_runs),
          min(r["process_s"] for r in hf_st_proc))
    r_row("decode tok/s, B=1 greedy", r1_dec[1], hf_dec[1])
    r_row(f"decode tok/s, B={args.batch} T={TEMPERATURE}", r1_dec[args.batch], hf_dec[args.batch])
    rows.append(("B=1 decode / bandwidth bound", f"{100 * r1_dec[1] / ideal_tok_s:.1f}%",
                 f"{100 * hf_dec[1] / ideal_tok_s:.1f}%", ""))
    head = ("measure", "r1", "transformers", "r1 speed-up")
    w = [max(len(x[i]) for x in rows + [head]) for i in range(4)]
    print("| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(head)) + " |")
    print("|" + "|".join("-" * (w[i] + 2) for i in range(4)) + "|")
    for x in rows:
        print("| " + x[0].ljust(w[0]) + " | " + " | ".join(x[i].rjust(w[i]) for i in (1, 2, 3)) + " |")

    def per_round(b):
        r = ", ".join(f"{b * n / (tn['generate_s'] - t1['generate_s']):.2f}" for t1, tn in r1_runs[b])
        h = ", ".join(f"{x[f'b{b}']['decode_tok_s']:.2f}" for x in hf_dec_runs)
        return f"B={b} r1 [{r}] transformers [{h}]"

    print(f"\nr1 speed-up: transformers' time / r1's, or r1's rate / transformers'. Best of: r1 GGUF "
          f"load {len(r1_gguf_runs)} r1gen runs, transformers GGUF load 1; safetensors loads r1 "
          f"{args.load_repeats}, transformers {len(hf_st_runs)}; decode {args.rounds} rounds, tok/s "
          f"per round: {per_round(1)}; {per_round(args.batch)}.", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=QWEN, help="GGUF file")
    ap.add_argument("--smollm", action="store_true", help=f"also {os.path.basename(SMOLLM)}")
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--prompt-len", type=int, default=32)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--load-repeats", type=int, default=2, help="safetensors loads per side")
    ap.add_argument("--rounds", type=int, default=3, help="decode measurements per side (best)")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    ap.add_argument("--hf-worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.hf_worker:
        return hf_worker(json.loads(args.hf_worker))
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still delete the temp checkpoint
    import torch
    import transformers
    start = time.perf_counter()
    bw = BANDWIDTH["best"] = read_bandwidth_gbs(args.threads)
    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; threads {args.threads}; "
          f"load average {os.getloadavg()[0]:.2f}; "
          f"OMP_WAIT_POLICY {os.environ.get('OMP_WAIT_POLICY', 'unset')}")
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, "
          f"gguf {importlib.metadata.version('gguf')}; "
          f"float32; {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"memory read bandwidth (torch sum, 1 GiB float32, {args.threads} threads, best of 5): "
          f"{bw:.1f} GB/s at the start (measured again after each model; the bound uses the best)")
    models = [args.model] + ([SMOLLM] if args.smollm else [])
    for m in models:
        bench_model(m, args)
    load = os.getloadavg()[0]
    note = " (above the core count: other jobs took CPU time, rerun)" if load > (os.cpu_count() or 1) else ""
    print(f"\ntotal {time.perf_counter() - start:.0f} s; load average at the end {load:.2f}{note}")


if __name__ == "__main__":
    main()
