"""Makes tests/data/models/tiny-r1/: a tiny random-init "DeepSeek-R1-Distill-Qwen"-style checkpoint with a
real (small) byte-level BPE tokenizer and the real DeepSeek-R1 chat template, so r1's evaluation harness can
run end to end on CPU in tests within seconds. The model's outputs are noise (plain random init); what is
real is the file layout, the tokenizer machinery and the prompt format.

Run from the repo root:  .venv/bin/python tests/reference/make_tiny_r1.py [--r1-bin build/bin]
Deterministic: re-running rewrites byte-identical files. Needs (read-only) the MATH-500 and AIME 2024
problems in ../shared/data/benchmarks/ to train the tokenizer; they are not copied into the repository.

Files written:
  tokenizer.json         byte-level BPE, 1,000 tokens in all: 256 byte symbols + 738 merges trained with the
                         `tokenizers` BpeTrainer on the problems and solutions of MATH-500 and AIME 2024, then
                         the six DeepSeek-R1-Distill added tokens, in DeepSeek's relative order and with its
                         flags: <｜end▁of▁sentence｜> (994, special), <｜User｜> (995), <｜Assistant｜> (996),
                         <｜begin▁of▁sentence｜> (997, special), <think> (998), </think> (999). As in the real
                         tokenizer, only BOS and EOS are special; User/Assistant/think are plain added tokens.
                         normalizer / pre_tokenizer / post_processor / decoder mirror the real
                         deepseek_r1_distill_qwen_tokenizer.json: NFC; Qwen2 split regex + ByteLevel(use_regex
                         false); TemplateProcessing prepending BOS; ByteLevel decoder. Merges are written as
                         "left right" strings, as in the real file.
  tokenizer_config.json  bos/eos/pad tokens (pad = EOS, as R1-Distill ships), add_bos_token, and chat_template =
                         tests/data/chat_templates/deepseek_r1.jinja verbatim (the template that ends the
                         generation prompt with "<｜Assistant｜><think>\\n").
  config.json, model.safetensors
                         Qwen2ForCausalLM from transformers' from_config under torch.manual_seed(0): hidden 64,
                         intermediate 128, 2 layers, 4 heads, 2 KV heads, vocab 1024 (tokenizer size rounded up
                         to a multiple of 64; ids 1000..1023 are unused padding rows, as in real checkpoints),
                         max_position_embeddings 4096, untied LM head, float32, default init.
  generation_config.json bos/eos ids, do_sample true, temperature 0.6, top_p 0.95 (R1-Distill's defaults).

Then it verifies and prints a short report: tokenizers round trips; transformers' AutoTokenizer renders the chat
template and matches `tokenizers`; transformers loads the model and generates 8 greedy tokens from a chat
prompt; and, when the r1 binaries exist (it never builds them), `r1tok encode` ids == HF ids on ~20 strings
(with and without --special), `r1tok chat` == HF's rendering, and `r1gen` runs on the checkpoint.
Exit status 1 when a check fails.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import torch
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "models", "tiny-r1")
SHARED = os.path.join(ROOT, "..", "shared", "data")
BENCH = os.path.join(SHARED, "benchmarks")
REAL_TOKENIZER = os.path.join(SHARED, "tokenizers", "deepseek_r1_distill_qwen_tokenizer.json")
TEMPLATE = os.path.join(ROOT, "tests", "data", "chat_templates", "deepseek_r1.jinja")

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
USER = "<｜User｜>"
ASSISTANT = "<｜Assistant｜>"
THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
# (content, special) in the relative order of the real R1-Distill-Qwen added tokens (151643..151649, minus <|EOT|>).
ADDED = [(EOS, True), (USER, False), (ASSISTANT, False), (BOS, True), (THINK_OPEN, False), (THINK_CLOSE, False)]
TOTAL_VOCAB = 1000
BPE_VOCAB = TOTAL_VOCAB - len(ADDED)

# The Qwen2 / R1-Distill pre-tokenizer split pattern (checked against the real file below).
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def training_texts():
    texts = []
    for name, fields in (("math500.jsonl", ("problem", "solution")), ("aime24.jsonl", ("problem", "solution"))):
        with open(os.path.join(BENCH, name), encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                texts.extend(row[k] for k in fields if isinstance(row.get(k), str))
    return texts


def build_tokenizer():
    real = json.load(open(REAL_TOKENIZER, encoding="utf-8"))
    assert real["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] == QWEN2_SPLIT, "split regex drifted"

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=BPE_VOCAB, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tok.train_from_iterator(training_texts(), trainer=trainer)
    assert tok.get_vocab_size() == BPE_VOCAB, tok.get_vocab_size()
    for content, special in ADDED:
        t = AddedToken(content, single_word=False, lstrip=False, rstrip=False, normalized=False, special=special)
        (tok.add_special_tokens if special else tok.add_tokens)([t])
    bos_id = tok.token_to_id(BOS)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS}:0 $A:0", pair=f"{BOS}:0 $A:0 {BOS}:1 $B:1", special_tokens=[(BOS, bos_id)])

    # Serialize, then make the JSON mirror the real file where `tokenizers` writes it differently.
    j = json.loads(tok.to_str())
    m = j["model"]
    for k, v in real["model"].items():
        if k not in ("vocab", "merges"):
            m[k] = v
    m["merges"] = [" ".join(p) if isinstance(p, list) else p for p in m["merges"]]
    assert all(len(p.split(" ")) == 2 for p in m["merges"])
    j["model"] = {k: m[k] for k in real["model"]}  # the real key order
    # decoders.ByteLevel() takes no options in Python and serializes the defaults; decoding ignores them.
    assert j["decoder"]["type"] == "ByteLevel"
    j["decoder"] = real["decoder"]
    for k in ("normalizer", "pre_tokenizer", "decoder"):
        assert j[k] == real[k], (k, j[k], real[k])
    pp = json.loads(json.dumps(real["post_processor"]).replace("151646", str(bos_id)))
    assert j["post_processor"] == pp, (j["post_processor"], pp)
    j = {k: j[k] for k in real}
    return json.dumps(j, ensure_ascii=False, indent=2) + "\n"


def tokenizer_config(tok):
    def added(content):
        return {"__type": "AddedToken", "content": content, "lstrip": False, "normalized": False,
                "rstrip": False, "single_word": False}
    decoder = {}
    for content, special in ADDED:
        decoder[str(tok.token_to_id(content))] = {"content": content, "lstrip": False, "normalized": False,
                                                  "rstrip": False, "single_word": False, "special": special}
    template = open(TEMPLATE, encoding="utf-8").read()
    return {
        "add_bos_token": True,
        "add_eos_token": False,
        "added_tokens_decoder": decoder,
        "bos_token": added(BOS),
        "chat_template": template,
        "clean_up_tokenization_spaces": False,
        "eos_token": added(EOS),
        "legacy": True,
        "model_max_length": 4096,
        "pad_token": added(EOS),
        "tokenizer_class": "PreTrainedTokenizerFast",
        "unk_token": None,
    }


def write_model(tok):
    from transformers import AutoConfig, AutoModelForCausalLM, GenerationConfig
    n = tok.get_vocab_size(with_added_tokens=True)
    vocab = (n + 63) // 64 * 64
    bos, eos = tok.token_to_id(BOS), tok.token_to_id(EOS)
    cfg = AutoConfig.for_model(
        "qwen2", vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096, rms_norm_eps=1e-6,
        rope_theta=10000.0, hidden_act="silu", tie_word_embeddings=False, use_sliding_window=False,
        sliding_window=None, bos_token_id=bos, eos_token_id=eos, pad_token_id=eos,
        architectures=["Qwen2ForCausalLM"])
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    model.eval()
    model.generation_config = GenerationConfig(bos_token_id=bos, eos_token_id=eos, do_sample=True,
                                               temperature=0.6, top_p=0.95)
    model.save_pretrained(OUT, safe_serialization=True)
    return vocab


class Report:
    def __init__(self):
        self.failures = []

    def check(self, ok, what):
        print(("  ok    " if ok else "  FAIL  ") + what)
        if not ok:
            self.failures.append(what)


def parity_texts(chat_prompt):
    return [
        "What is 1+1?",
        chat_prompt,
        BOS + USER + "Solve $x^2 = 4$." + ASSISTANT + THINK_OPEN + "\nx = 2 or x = -2." + THINK_CLOSE
        + "\n\n$\\boxed{\\pm 2}$" + EOS,
        "Compute $\\frac{1}{2} + \\frac{1}{3}$.",
        "The answer is $\\boxed{\\frac{5}{6}}$.",
        "\\boxed{}",
        "Let $f(x) = \\sqrt{x^2 + 1}$ and $g(x) = \\log_2 x$; find $f(g(8))$.",
        "line one\nline two\r\n\n\n  indented\ttab",
        "   leading and trailing spaces   ",
        "π ≈ 3.14159, e ≈ 2.71828, ∑_{k=1}^{n} k = n(n+1)/2",
        "Ünïcödé: café, naïve, Ωμέγα, Привет, 日本語の数学, 수학",
        "emoji 🧮➕➗ and a non-BMP 𝔽_p field",
        "e\u0301 (decomposed é, NFC-normalized) vs \u00e9",
        "12345678901234567890 and 3.14 and -0.5e-10",
        "We'll check: it's, they're, I've, you'd, I'm, we'll.",
        "<think>\nOkay, so I need to find x.\n</think>\n\nThe final answer is 42.",
        "text with <｜User｜> inside and <｜Assistant｜> too, <think> </think>",
        "not an added token: <｜User|> <think >",
        "[asy]\ndraw((0,0)--(1,1),red);\n[/asy]",
        "",
        "def f(n):\n    return n * (n + 1) // 2\n",
    ]


def run_r1tok(r1tok, args, lines):
    p = subprocess.run([r1tok] + args, input="".join(lines).encode("utf-8"), capture_output=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"r1tok {' '.join(args)} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    return p.stdout.decode("utf-8")


def verify(r1_bin):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    rep = Report()
    print("tiny-r1 verification")
    tok = Tokenizer.from_file(os.path.join(OUT, "tokenizer.json"))
    print(f"  tokenizer: {tok.get_vocab_size(with_added_tokens=False)} BPE tokens + {len(ADDED)} added = "
          f"{tok.get_vocab_size()}")
    for s in ["Compute $\\frac{1}{2}+\\frac{1}{3}$.", "\\boxed{42}", "x^2 - 5x + 6 = 0\n", "π ≈ 3.14 → ∞ 🧮"]:
        ids = tok.encode(s, add_special_tokens=False).ids
        rep.check(tok.decode(ids, skip_special_tokens=False) == s, f"tokenizers round trip {s!r} ({len(ids)} ids)")
    ids = tok.encode("What is 1+1?").ids
    rep.check(ids[0] == tok.token_to_id(BOS), "post-processor prepends BOS")

    hf = AutoTokenizer.from_pretrained(OUT)
    prompt = hf.apply_chat_template([{"role": "user", "content": "What is 1+1?"}], tokenize=False,
                                    add_generation_prompt=True)
    rep.check(prompt == BOS + USER + "What is 1+1?" + ASSISTANT + THINK_OPEN + "\n",
              f"AutoTokenizer chat template renders {prompt!r}")
    rep.check(prompt.endswith(ASSISTANT + THINK_OPEN + "\n"), "generation prompt ends in <｜Assistant｜><think>\\n")
    rep.check((hf.bos_token, hf.eos_token, hf.pad_token) == (BOS, EOS, EOS), "AutoTokenizer bos/eos/pad tokens")
    texts = parity_texts(prompt)
    same = sum(hf(t, add_special_tokens=False)["input_ids"] == tok.encode(t, add_special_tokens=False).ids
               and hf(t)["input_ids"] == tok.encode(t).ids for t in texts)
    rep.check(same == len(texts), f"AutoTokenizer == tokenizers on {same}/{len(texts)} texts")
    prompt_ids = hf(prompt, add_special_tokens=False)["input_ids"]
    n_bos = prompt_ids.count(tok.token_to_id(BOS))
    rep.check(n_bos == 1, f"chat prompt encoded without add_special_tokens has exactly one BOS ({n_bos})")

    model = AutoModelForCausalLM.from_pretrained(OUT)
    model.eval()
    x = torch.tensor([prompt_ids])
    with torch.no_grad():
        logits = model(x).logits[0, -1]
        out = model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=8, min_new_tokens=8,
                             do_sample=False, pad_token_id=tok.token_to_id(EOS))
    new = out[0, x.shape[1]:].tolist()
    rep.check(len(new) == 8, f"transformers greedy generate 8 tokens: {new} -> {hf.decode(new)!r}")
    p = torch.softmax(logits / 0.6, -1)
    ent = float(-(p * p.clamp_min(1e-30).log()).sum())
    top = torch.topk(logits, 2).values.tolist()
    print(f"  next-token logits: std {logits.std().item():.4f}, top-2 gap {top[0] - top[1]:.4f}; entropy at T=0.6 "
          f"{ent:.3f} nats (uniform over {logits.numel()} = {math.log(logits.numel()):.3f})")
    rep.check(torch.isfinite(logits).all().item() and logits.std().item() > 1e-3, "logits finite, not constant")

    r1tok = os.path.join(r1_bin, "r1tok")
    r1gen = os.path.join(r1_bin, "r1gen")
    if not (os.path.exists(r1tok) and os.path.exists(r1gen)):
        print(f"  skip  r1 checks: no r1tok/r1gen in {r1_bin}")
        return rep
    with tempfile.TemporaryDirectory() as tmp:  # a private copy, so a concurrent rebuild cannot swap it mid-run
        shutil.copy2(r1tok, os.path.join(tmp, "r1tok"))
        r1tok = os.path.join(tmp, "r1tok")
        for special, ensure_ascii in ((False, False), (True, True)):
            args = ["encode", "--tokenizer", OUT, "--jsonl", "--threads", "1"] + (["--special"] if special else [])
            got = run_r1tok(r1tok, args, [json.dumps(t, ensure_ascii=ensure_ascii) + "\n" for t in texts])
            got = [json.loads(l) for l in got.splitlines()]
            want = [tok.encode(t, add_special_tokens=special).ids for t in texts]
            bad = [i for i in range(len(texts)) if i >= len(got) or got[i] != want[i]]
            rep.check(not bad and len(got) == len(want),
                      f"r1tok encode{' --special' if special else ''} == HF ids on {len(texts) - len(bad)}/{len(texts)}")
            for i in bad[:5]:
                print(f"        mismatch {texts[i]!r}: r1 {got[i] if i < len(got) else None} HF {want[i]}")
        got = run_r1tok(r1tok, ["decode", "--tokenizer", OUT, "--jsonl"],
                        [json.dumps(tok.encode(t).ids) + "\n" for t in texts])
        got = [json.loads(l) for l in got.splitlines()]
        want = [tok.decode(tok.encode(t).ids, skip_special_tokens=False) for t in texts]
        rep.check(got == want, f"r1tok decode == HF decode on {sum(a == b for a, b in zip(got, want))}/{len(texts)}")
        msgs = [{"role": "user", "content": "What is 1+1?"}]
        got = run_r1tok(r1tok, ["chat", "--tokenizer", OUT], [json.dumps(msgs)])
        rep.check(got == prompt or got.rstrip("\n") == prompt, f"r1tok chat == HF apply_chat_template ({got!r})")

    cmd = [r1gen, "--model", OUT, "--prompt", "What is 1+1?", "--chat", "--n", "2", "--max-new-tokens", "16",
           "--temperature", "0.6", "--top-p", "0.95", "--seed", "0", "--json", "--threads", "2"]
    p = subprocess.run(cmd, capture_output=True, timeout=300)
    lines = [l for l in p.stdout.decode("utf-8", "replace").splitlines() if l.strip()]
    ok = p.returncode == 0 and len(lines) == 2
    try:
        rows = [json.loads(l) for l in lines]
    except json.JSONDecodeError:
        rows, ok = [], False
    rep.check(ok, f"r1gen --chat --n 2 --max-new-tokens 16 --json (exit {p.returncode}, {len(lines)} lines)")
    for l in lines[:2]:
        print("        " + (l if len(l) < 400 else l[:400] + "..."))
    if p.returncode != 0:
        print("        stderr: " + p.stderr.decode("utf-8", "replace")[-2000:])
    return rep


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--r1-bin", default=os.path.join(ROOT, "build", "bin"), help="where r1tok and r1gen are")
    ap.add_argument("--no-verify", action="store_true")
    args = ap.parse_args()

    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    with open(os.path.join(OUT, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(build_tokenizer())
    tok = Tokenizer.from_file(os.path.join(OUT, "tokenizer.json"))
    with open(os.path.join(OUT, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(tokenizer_config(tok), ensure_ascii=False, indent=2) + "\n")
    vocab = write_model(tok)
    total = 0
    for name in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, name))
        total += size
        print(f"  {name:24s} {size:8d} bytes")
    print(f"  {'total':24s} {total:8d} bytes; model vocab_size {vocab}")
    if args.no_verify:
        return 0
    rep = verify(args.r1_bin)
    print(f"{'all checks passed' if not rep.failures else str(len(rep.failures)) + ' check(s) FAILED'}")
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
