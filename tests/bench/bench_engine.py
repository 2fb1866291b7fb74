"""r1's engine vs transformers `generate` on CPU, side by side in one run, on the same random Qwen2
checkpoints (~10M and ~100M parameters), batch 1 and 16, R1 sampling (temperature 0.6, top-p
0.95, no top-k), no EOS stop so every sample runs the full length. Prints prefill and decode
tokens/s for both and the ratio r1 / transformers.

Run: .venv/bin/python tests/bench/bench_engine.py [--new-tokens 64] [--prompt-len 64]
(after scripts/build.sh). Checkpoints are made once under build/bench-models/.
"""
import argparse
import json
import os
import subprocess
import time

import torch
from transformers import AutoModelForCausalLM, Qwen2Config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = {
    "qwen2-10M": dict(vocab_size=32000, hidden_size=256, intermediate_size=768, num_hidden_layers=4,
                      num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True),
    "qwen2-100M": dict(vocab_size=151936, hidden_size=512, intermediate_size=1408,
                       num_hidden_layers=8, num_attention_heads=8, num_key_value_heads=2,
                       tie_word_embeddings=True),
}


def checkpoint(name):
    path = os.path.join(ROOT, "build", "bench-models", name)
    if not os.path.exists(os.path.join(path, "config.json")):
        torch.manual_seed(0)
        cfg = Qwen2Config(**CONFIGS[name], max_position_embeddings=4096, eos_token_id=None,
                          bos_token_id=None, pad_token_id=0)
        AutoModelForCausalLM.from_config(cfg, dtype=torch.float32).save_pretrained(path)
    return path


def bench_hf(path, batch, prompt_len, new_tokens, repeats):
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    model.generation_config.eos_token_id = None
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size, (batch, prompt_len), generator=g)
    mask = torch.ones_like(ids)

    def run(n):
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(ids, attention_mask=mask, do_sample=True, temperature=0.6,
                                 top_p=0.95, top_k=0, max_new_tokens=n, min_new_tokens=n,
                                 pad_token_id=0)
        assert out.shape[1] == prompt_len + n
        return time.perf_counter() - t0

    run(2)
    prefill = min(run(1) for _ in range(repeats))
    total = min(run(new_tokens + 1) for _ in range(repeats))
    decode = total - prefill
    return dict(prefill_tok_s=batch * prompt_len / prefill, decode_tok_s=batch * new_tokens / decode)


def bench_r1(path, batch, prompt_len, new_tokens, repeats, threads):
    out = subprocess.run([os.path.join(ROOT, "build", "bin", "bench_engine"), "--model", path,
                          "--batch", str(batch), "--prompt-len", str(prompt_len), "--new-tokens",
                          str(new_tokens), "--repeats", str(repeats), "--threads", str(threads)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--prompt-len", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--models", default=",".join(CONFIGS))
    ap.add_argument("--batches", default="1,16")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    import transformers
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, {args.threads} threads, "
          f"prompt {args.prompt_len}, new tokens {args.new_tokens}, float32, T=0.6 top-p=0.95")
    print(f"{'model':<11} {'B':>3} | {'prefill tok/s r1':>16} {'hf':>9} {'ratio':>6} | "
          f"{'decode tok/s r1':>15} {'hf':>9} {'ratio':>6}")
    for name in args.models.split(","):
        path = checkpoint(name)
        for b in map(int, args.batches.split(",")):
            r = bench_r1(path, b, args.prompt_len, args.new_tokens, args.repeats, args.threads)
            h = bench_hf(path, b, args.prompt_len, args.new_tokens, args.repeats)
            print(f"{name:<11} {b:>3} | {r['prefill_tok_s']:>16.0f} {h['prefill_tok_s']:>9.0f} "
                  f"{r['prefill_tok_s'] / h['prefill_tok_s']:>5.2f}x | {r['decode_tok_s']:>15.0f} "
                  f"{h['decode_tok_s']:>9.0f} {r['decode_tok_s'] / h['decode_tok_s']:>5.2f}x", flush=True)


if __name__ == "__main__":
    main()
