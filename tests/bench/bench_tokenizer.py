"""Encode throughput, r1 vs HF `tokenizers` (Rust), side by side in one run, on the concatenated
MATH-500 problems and solutions: single-threaded on the whole text, and batch encoding of its lines
on 1 and 2 threads. Prints MB/s for both and the ratio r1 / HF.

Run: scripts/build.sh && .venv/bin/python tests/bench/bench_tokenizer.py
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "..", "shared", "data")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", default=os.path.join(DATA, "tokenizers", "qwen2_5_tokenizer.json"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    rows = [json.loads(l) for l in open(os.path.join(DATA, "benchmarks", "math500.jsonl"), encoding="utf-8")]
    text = "\n".join(r["problem"] + "\n" + r["solution"] for r in rows)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write(text)
        path = f.name
    r1 = json.loads(subprocess.run([os.path.join(ROOT, "build", "bin", "bench_tokenizer"), "--tokenizer",
                                    args.tokenizer, "--text", path, "--repeats", str(args.repeats),
                                    "--threads", str(args.threads)], check=True, capture_output=True,
                                   text=True).stdout)
    os.unlink(path)
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    from tokenizers import Tokenizer, __version__
    tok = Tokenizer.from_file(args.tokenizer)
    mb = len(text.encode("utf-8")) / 1e6
    lines = text.split("\n")

    def best(f):
        out = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            f()
            out.append(time.perf_counter() - t0)
        return min(out)

    ids = tok.encode(text, add_special_tokens=False).ids
    assert len(ids) == r1["ids"], f"id counts differ: HF {len(ids)} vs r1 {r1['ids']}"
    hf_single = mb / best(lambda: tok.encode(text, add_special_tokens=False))
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    hf_batch1 = mb / best(lambda: [tok.encode(l, add_special_tokens=False) for l in lines])
    os.environ["TOKENIZERS_PARALLELISM"] = "true"
    hf_batchn = mb / best(lambda: tok.encode_batch(lines, add_special_tokens=False))
    print(f"MATH-500 problems+solutions: {mb:.2f} MB, {len(ids)} ids; tokenizers {__version__}; "
          f"{os.path.basename(args.tokenizer)}")
    print(f"{'mode':<22} {'r1 MB/s':>8} {'HF MB/s':>8} {'ratio':>6}")
    for name, a, b in [("single text, 1 thread", r1["single_mb_s"], hf_single),
                       ("lines, 1 thread", r1["batch1_mb_s"], hf_batch1),
                       (f"lines, {args.threads} threads", r1["batchn_mb_s"], hf_batchn)]:
        print(f"{name:<22} {a:>8.2f} {b:>8.2f} {a / b:>5.2f}x")


if __name__ == "__main__":
    main()
