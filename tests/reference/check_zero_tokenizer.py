"""Checks the tiny R1-Zero assets that r1 writes in C++ (rl/zero_tokenizer.cpp, rl/zero_model.cpp,
rl/zero_task.cpp) against the Hugging Face reference: `tokenizers` and transformers' AutoTokenizer give the
same ids as r1tok on every generated text and a handful of others (with and without special tokens),
decode the same, render the chat template as `r1tok chat` does, and transformers loads the random-init
checkpoint with no missing or unexpected weights and runs it.

Run from the repo root:
  .venv/bin/python tests/reference/check_zero_tokenizer.py [--r1-bin build-zero/bin] [--assets DIR]
Without --assets it writes the assets into a temp dir with `test_zero_task --gtest_filter=*Reference*`
(R1_ZERO_OUT). It never builds anything. Exit status 1 when a check fails.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOS, EOS, PAD = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>"
USER, ASSISTANT = "<｜User｜>", "<｜Assistant｜>"

EXTRA_TEXTS = [
    "",
    "What is 7+5?",
    "Please reason step by step, and put your final answer within \\boxed{}.",
    "What is 12+30-7?\nPlease reason step by step, and put your final answer within \\boxed{}.",
    "<think>\n12+30=42\n42-7=35\n</think>\n\n\\boxed{35}",
    BOS + USER + "What is 1+2?" + ASSISTANT + "<think>\n1+2=3\n</think>\n\\boxed{3}" + EOS,
    "pad " + PAD + PAD + " and " + EOS + BOS,
    "not added: <think > <｜User|> </ think>",
    "boxed \\boxed \\\\boxed  \\ boxed What What's whatever Whatnot",
    "line one\nline two\r\n\n\n  indented\ttab   trailing   ",
    "π ≈ 3.14159; Ünïcödé café, Привет, 日本語, 수학, emoji 🧮 and 𝔽_p",
    "e\u0301 (decomposed, NFC) vs \u00e9",
    "We'll check: it's, they're, I've, you'd, I'm.",
    "-12 + 0.5e-10 = 12345678901234567890",
]


class Report:
    def __init__(self):
        self.failures = []

    def check(self, ok, what):
        print(("  ok    " if ok else "  FAIL  ") + what)
        if not ok:
            self.failures.append(what)


def run(cmd, stdin_text):
    p = subprocess.run(cmd, input=stdin_text.encode("utf-8"), capture_output=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    return p.stdout.decode("utf-8")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def generated_texts(assets):
    texts = []
    for name in ("base.jsonl", "sft.jsonl", "grpo.jsonl", "heldout.jsonl"):
        for row in read_jsonl(os.path.join(assets, name)):
            texts.extend(row[k] for k in ("text", "prompt", "response", "problem") if k in row)
    return list(dict.fromkeys(texts))  # distinct, in order


def check(assets, r1_bin):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    rep = Report()
    model_dir = os.path.join(assets, "model")
    r1tok = os.path.join(r1_bin, "r1tok")
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    hf = AutoTokenizer.from_pretrained(model_dir)
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    print(f"zero assets in {assets}: tokenizer {tok.get_vocab_size()} tokens "
          f"({tok.get_vocab_size(with_added_tokens=False)} BPE), model vocab {cfg['vocab_size']}")

    rep.check((hf.bos_token, hf.eos_token, hf.pad_token) == (BOS, EOS, PAD), "AutoTokenizer bos/eos/pad tokens")
    rep.check((hf.bos_token_id, hf.eos_token_id, hf.pad_token_id)
              == (cfg["bos_token_id"], cfg["eos_token_id"], cfg["pad_token_id"]),
              "tokenizer special ids == config.json's")
    rep.check(all(tok.token_to_id(chr(c) if c > 32 and c < 127 else "x") is not None for c in range(33, 127)),
              "printable ASCII in the vocabulary")
    rep.check([tok.encode(d, add_special_tokens=False).ids for d in "0123456789"] == [[48 + i] for i in range(10)],
              "digits are single tokens with id = byte value")

    texts = generated_texts(assets) + EXTRA_TEXTS
    for special in (False, True):
        want = [tok.encode(t, add_special_tokens=special).ids for t in texts]
        auto = [hf(t, add_special_tokens=special)["input_ids"] for t in texts]
        rep.check(auto == want, f"AutoTokenizer == tokenizers (add_special_tokens={special}) on "
                                f"{sum(a == b for a, b in zip(auto, want))}/{len(texts)} texts")
        args = ["encode", "--tokenizer", model_dir, "--jsonl", "--threads", "1"] + (["--special"] if special else [])
        got = [json.loads(l) for l in run([r1tok] + args, "".join(json.dumps(t) + "\n" for t in texts)).splitlines()]
        bad = [i for i in range(len(texts)) if i >= len(got) or got[i] != want[i]]
        rep.check(not bad and len(got) == len(want),
                  f"r1tok encode{' --special' if special else ''} == HF ids on {len(texts) - len(bad)}/{len(texts)}")
        for i in bad[:5]:
            print(f"        mismatch {texts[i]!r}: r1 {got[i] if i < len(got) else None} HF {want[i]}")
    gen = generated_texts(assets)
    rep.check(all(tok.decode(tok.encode(t, add_special_tokens=False).ids, skip_special_tokens=False) == t
                  for t in gen),
              f"tokenizers round-trips all {len(gen)} generated texts")
    for skip in (False, True):
        ids = [tok.encode(t).ids for t in texts]
        want = [tok.decode(i, skip_special_tokens=skip) for i in ids]
        got = [json.loads(l) for l in run([r1tok, "decode", "--tokenizer", model_dir, "--jsonl"]
                                          + (["--skip-special"] if skip else []),
                                          "".join(json.dumps(i) + "\n" for i in ids)).splitlines()]
        rep.check(got == want, f"r1tok decode{' --skip-special' if skip else ''} == HF decode on "
                               f"{sum(a == b for a, b in zip(got, want))}/{len(texts)}")
    kept = tok.decode(tok.encode(BOS + "<think>\nx</think>" + EOS + PAD).ids, skip_special_tokens=True)
    rep.check(kept == "<think>\nx</think>", f"skip_special_tokens drops BOS/EOS/pad, keeps <think> ({kept!r})")

    conversations = [
        ([{"role": "user", "content": "What is 1+2?"}], True),
        ([{"role": "user", "content": "What is 1+2?"}], False),
        ([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 3+4?"}], True),
        ([{"role": "user", "content": "What is 1+2?"},
          {"role": "assistant", "content": "<think>\n1+2=3\n</think>\n\\boxed{3}"},
          {"role": "user", "content": "And 3+4?"}], True),
    ]
    for msgs, gen_prompt in conversations:
        want = hf.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen_prompt)
        got = run([r1tok, "chat", "--tokenizer", model_dir] + ([] if gen_prompt else ["--no-generation-prompt"]),
                  json.dumps(msgs))
        rep.check(got == want or got.rstrip("\n") == want,
                  f"r1tok chat == HF apply_chat_template: {want!r}")
    prompt = hf.apply_chat_template([{"role": "user", "content": "What is 1+2?"}], tokenize=False,
                                    add_generation_prompt=True)
    rep.check(prompt == BOS + USER + "What is 1+2?" + ASSISTANT + "<think>\n",
              "generation prompt forces <think>\\n")
    base = read_jsonl(os.path.join(assets, "base.jsonl"))[0]
    rendered = hf.apply_chat_template([{"role": "user", "content": base["prompt"]}], tokenize=False,
                                      add_generation_prompt=True)
    rep.check(base["text"] == rendered + base["response"] + EOS, "base.jsonl text == HF template + response + EOS")

    model, info = AutoModelForCausalLM.from_pretrained(model_dir, output_loading_info=True)
    model.eval()
    missing = [k for k in info.get("missing_keys", []) if "lm_head" not in k]
    rep.check(not missing and not info.get("unexpected_keys") and not info.get("mismatched_keys"),
              f"transformers loads the checkpoint ({type(model).__name__}, info {info})")
    n = sum(p.numel() for p in model.parameters())
    rep.check(model.config.tie_word_embeddings and model.lm_head.weight.data_ptr()
              == model.model.embed_tokens.weight.data_ptr(), f"tied LM head; {n} parameters")
    emb = model.model.embed_tokens.weight
    rep.check(abs(emb.std().item() - 0.02) < 0.002 and emb[cfg["pad_token_id"]].abs().sum().item() == 0,
              f"init: embedding std {emb.std().item():.4f}, pad row zero")
    ids = torch.tensor([hf(prompt, add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        logits = model(ids).logits
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, min_new_tokens=8,
                             do_sample=False, pad_token_id=cfg["pad_token_id"])
    rep.check(bool(torch.isfinite(logits).all()) and logits.shape[-1] == cfg["vocab_size"],
              f"forward: logits {tuple(logits.shape)} finite, std {logits.std().item():.4f}")
    rep.check(out.shape[1] == ids.shape[1] + 8, f"greedy generate 8 tokens: {hf.decode(out[0, ids.shape[1]:])!r}")
    return rep


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--r1-bin", default=os.path.join(ROOT, "build", "bin"), help="where r1tok and test_zero_task are")
    ap.add_argument("--assets", help="assets written by write_zero_assets (default: write them to a temp dir)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        assets = args.assets
        if not assets:
            assets = os.path.join(tmp, "zero")
            env = dict(os.environ, R1_ZERO_OUT=assets)
            subprocess.run([os.path.join(args.r1_bin, "test_zero_task"), "--gtest_filter=*WriteAssetsForReference*"],
                           env=env, check=True, capture_output=True, timeout=300)
        rep = check(assets, args.r1_bin)
    print("all checks passed" if not rep.failures else f"{len(rep.failures)} check(s) FAILED")
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
