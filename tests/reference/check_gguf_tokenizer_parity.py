"""Parity: r1's tokenizer built from a GGUF file's tokenizer.ggml.* metadata (build/bin/r1tok with --tokenizer FILE.gguf)
against the tokenizer transformers builds from the same file (AutoTokenizer.from_pretrained(dir, gguf_file=name)).

Run from the repo root:  .venv/bin/python tests/reference/check_gguf_tokenizer_parity.py [--r1tok PATH] [--show N]
Exit status 0 when every check matches; 1 on any mismatch, an r1tok failure or a missing GGUF file.

Files, in ${R1_CACHE:-~/.cache/r1}/models (scripts/fetch_models.sh fetches them):
  SmolLM2-135M-Instruct.Q4_1.gguf          arch llama, pre "smollm" (GPT-2's regex in ByteLevel), 49152 tokens
  Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf  arch qwen2, pre "qwen2" (Split + ByteLevel), 151936 tokens
  r1_distill_synth.gguf                    DeepSeek-R1-Distill-Qwen's shared tokenizer.json written as a GGUF the way
      llama.cpp's convert_hf_to_gguf.py writes it (pre "deepseek-r1-qwen", add_bos_token, "<｜User｜>" and the other
      tokens that look special as control, <think> as user-defined, [PADn] up to 152064). Its reference is HF
      `tokenizers` on the original tokenizer.json, not transformers: transformers 5.23 drops control tokens spelled
      outside GPT-2's byte alphabet ("<｜User｜>" is then cut into bytes) and gives BOS/EOS new ids past the
      vocabulary, which r1 deliberately does not copy. Texts that NFC changes are left out for it (the json
      normalizes to NFC; tokenizers built from a GGUF, llama.cpp's and transformers', do not), and so is dec-skip
      (the json calls "<｜User｜>" non-special, the GGUF control).

Corpus: check_tokenizer_parity.py's (every text field of the benchmark files, its edge cases, its invalid UTF-8 cases
as the replaced text), plus code, multilingual text, and each file's added tokens inside text.

Checks per file (reference = transformers' tokenizer, or HF tokenizers for the synthesized file):
  encode       r1tok encode --jsonl            == ids with add_special_tokens=False
  enc+special  r1tok encode --jsonl --special  == ids with add_special_tokens=True (BOS only where the file asks)
  decode       r1tok decode of the reference ids == reference decode(ids, skip_special_tokens=False)
  dec-skip     r1tok decode --skip-special of the add_special_tokens=True ids == reference decode(skip_special_tokens=True)
  round-trip   r1tok decode of the reference ids == the text (no normalizer: byte-level BPE is lossless)
  fragments    r1tok decode == reference decode on every proper prefix of the short edge cases' ids and on seeded random
               id sequences (cuts inside multi-byte characters must be replaced the same way). Where a sequence
               holds one of the "[PADn]" rows llama.cpp's converter appends (unused, past the tokenizer), r1
               decodes it to nothing, as the model's own tokenizer.json does, and transformers' GGUF tokenizer
               spells "[PADn]": the reference is its decode without those ids (r1 is right: the original has no
               such token)
"""
import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_tokenizer_parity as ctp  # noqa: E402  (the corpus, the r1tok runner, the mismatch printers)

MODELS = os.path.join(os.environ.get("R1_CACHE", os.path.expanduser("~/.cache/r1")), "models")
FILES = [
    ("smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    ("qwen2_5_coder", "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"),
]
R1_JSON = os.path.join(ctp.TOKDIR, "deepseek_r1_distill_qwen_tokenizer.json")
R1_VOCAB_SIZE = 152064  # config.json vocab_size of DeepSeek-R1-Distill-Qwen-1.5B/7B: the GGUF pads to it


def extra_texts():
    E = []

    def add(name, s):
        E.append((f"extra:{name}", s))

    add("py_class", 'class Stack:\n    """A LIFO stack."""\n\n    def __init__(self) -> None:\n        self._items: list[int] = []\n\n'
        "    def push(self, x: int) -> None:\n        self._items.append(x)\n\n    def pop(self) -> int:\n"
        "        if not self._items:\n            raise IndexError('pop from empty stack')\n        return self._items.pop()\n")
    add("rust", "fn main() {\n    let v: Vec<u64> = (1..=10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}\n")
    add("js", "const f = async (url) => {\n  const r = await fetch(url, { method: 'GET' });\n  return r.ok ? r.json() : null;\n};\n")
    add("shell", "#!/usr/bin/env bash\nset -euo pipefail\nfor f in *.txt; do wc -l \"$f\"; done | sort -n > out.log 2>&1\n")
    add("sql", "SELECT u.id, COUNT(*) AS n FROM users u JOIN orders o ON o.user_id = u.id\nWHERE o.total > 100.50\n"
        "GROUP BY u.id HAVING n >= 3 ORDER BY n DESC;")
    add("diff", "--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n-def f(a,b):\n+def f(a, b):\n     return a+b\n")
    add("cpp_template", "template <typename T>\nstd::vector<T> take(const std::vector<T>& v, size_t n) {\n"
        "  return {v.begin(), v.begin() + std::min(n, v.size())};\n}\n")
    add("tabs_and_crlf", "if (x)\r\n\t{\r\n\t\treturn;\r\n\t}\r\n")
    add("zh_para", "深度学习是机器学习的一个分支，它使用多层神经网络来学习数据的表示。近年来，大型语言模型取得了显著进展。")
    add("ja_para", "東京は日本の首都です。ひらがな、カタカナ、漢字が混ざった文章をトークン化します。ﾃｽﾄ。")
    add("ko_para", "대규모 언어 모델은 자연어 처리 분야에서 큰 발전을 이루었습니다.")
    add("ar_para", "اللغة العربية تكتب من اليمين إلى اليسار، وهذا نص تجريبي مع أرقام ٣٤٥ و 678.")
    add("he_ru_el", "עברית · Русский текст с ёлкой · Ελληνικά με τόνους ά έ ή")
    add("hi_th", "हिन्दी में वाक्य। ภาษาไทย อ่านง่าย")
    add("accents", "Crème brûlée, façade, naïve, jalapeño, Ångström, Øresund, Łódź, İstanbul, ß, œuvre")
    add("accents_nfd", unicodedata.normalize("NFD", "Crème brûlée, façade, naïve, jalapeño, Ångström"))
    add("emoji_mix", "Launch 🚀 at 10:00 ✅ — done 👍🏽; family 👨‍👩‍👧; flag 🇯🇵; keycap 3️⃣; ❤️‍🔥")
    add("math_unicode", "∀x∈ℝ, ∃y: x²+y² ≤ 1 ⇒ |x| ≤ 1; ∑_{k=1}^{n} k = n(n+1)/2; π ≈ 3.14159; √2 ∉ ℚ")
    add("mixed_code_zh", "# 计算斐波那契数列\ndef fib(n):  # 返回第n项\n    return n if n < 2 else fib(n-1) + fib(n-2)\n")
    add("numbers", "0 1 12 123 1234 12345 123456 3.14 1e10 0xFF 1,234,567 ２０２４年")
    return E


def added_token_texts(tokens):
    """Texts with a file's added tokens inside: each alone, against letters, between spaces and newlines; all of
    them in one text; near misses."""
    E = []
    for i, t in enumerate(tokens):
        E += [(f"added{i}_alone", t), (f"added{i}_letters", f"abc{t}def"), (f"added{i}_spaces", f"  {t}  x {t} "),
              (f"added{i}_nl", f"\n{t}\n\n{t}{t}\n")]
    E.append(("added_all", " a ".join(tokens)))
    E.append(("added_near_misses", " ".join(t[:-1] + " " + t[1:] for t in tokens if len(t) > 2)))
    E.append(("chat_qwen", "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
              "写一个排序函数 in Python<|im_end|>\n<|im_start|>assistant\n```python\ndef sort(xs):\n    return sorted(xs)\n```"
              "<|im_end|>\n"))
    E.append(("chat_r1", "<｜begin▁of▁sentence｜>You are helpful.<｜User｜>1+1?<｜Assistant｜><think>\nsimple\n</think>\n\n2"
              "<｜end▁of▁sentence｜>"))
    return [(f"special:{n}", s) for n, s in E]


def build_corpus(added_tokens):
    seen, corpus = set(), []
    raw_replaced = [(f"invalid:{n}.replaced", b.decode("utf-8", "replace")) for n, b in ctp.RAW_CASES]
    for label, text in (ctp.benchmark_texts() + ctp.edge_texts() + raw_replaced + extra_texts()
                        + added_token_texts(added_tokens)):
        if text not in seen:
            seen.add(text)
            corpus.append((label, text))
    return corpus


# ----------------------------------------------------------------------------------------------------------------
# references
# ----------------------------------------------------------------------------------------------------------------
class TransformersRef:
    """transformers' tokenizer from a GGUF file, behind the calls the checks make."""

    def __init__(self, path):
        from transformers import AutoTokenizer

        self.tok = AutoTokenizer.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path))
        self.backend = self.tok.backend_tokenizer  # for the mismatch printers (id_to_token, decode)
        self.size = len(self.tok)

    def added(self):
        return [t.content for _, t in sorted(self.tok.added_tokens_decoder.items())]

    def encode(self, texts, special):
        return self.tok(texts, add_special_tokens=special)["input_ids"]

    def decode(self, id_lists, skip):
        return self.tok.batch_decode(id_lists, skip_special_tokens=skip)


class TokenizersRef:
    """HF tokenizers on a tokenizer.json."""

    def __init__(self, path):
        from tokenizers import Tokenizer

        self.backend = Tokenizer.from_file(path)
        self.size = self.backend.get_vocab_size(with_added_tokens=True)

    def added(self):
        return [t.content for _, t in sorted(self.backend.get_added_tokens_decoder().items())]

    def encode(self, texts, special):
        return [e.ids for e in self.backend.encode_batch(texts, add_special_tokens=special)]

    def decode(self, id_lists, skip):
        return self.backend.decode_batch(id_lists, skip_special_tokens=skip)


def looks_special(t):
    """convert_hf_to_gguf.py's does_token_look_special."""
    return (t in ("<pad>", "<mask>", "<2mass>", "[@BOS@]") or (t.startswith("<|") and t.endswith("|>"))
            or (t.startswith("<｜") and t.endswith("｜>")) or (t.startswith("<unused") and t.endswith(">")))


def write_r1_distill_gguf(path, ref):
    """The shared DeepSeek-R1-Distill-Qwen tokenizer.json as llama.cpp's converter writes it (get_vocab_base)."""
    import gguf

    with open(R1_JSON, encoding="utf-8") as f:
        j = json.load(f)
    added = {a["id"]: a for a in j["added_tokens"]}
    rev = {i: t for t, i in j["model"]["vocab"].items()}
    rev.update({i: a["content"] for i, a in added.items()})
    tokens, types = [], []
    for i in range(R1_VOCAB_SIZE):
        if i not in rev:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
            continue
        t = rev[i]
        if i in added:
            if not added[i]["normalized"]:
                t = ref.backend.decode(ref.backend.encode(t, add_special_tokens=False).ids, skip_special_tokens=False)
            if added[i]["special"] or looks_special(t):
                types.append(gguf.TokenType.CONTROL)
            else:
                t = t.replace("\u2581", " ")
                types.append(gguf.TokenType.USER_DEFINED)
        else:
            types.append(gguf.TokenType.NORMAL)
        tokens.append(t)
    merges = [m if isinstance(m, str) else " ".join(m) for m in j["model"]["merges"]]
    ids = {a["content"]: a["id"] for a in j["added_tokens"]}
    w = gguf.GGUFWriter(path, "qwen2")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("deepseek-r1-qwen")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(ids["<｜begin▁of▁sentence｜>"])
    w.add_eos_token_id(ids["<｜end▁of▁sentence｜>"])
    w.add_pad_token_id(ids["<｜end▁of▁sentence｜>"])
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ----------------------------------------------------------------------------------------------------------------
def check_file(name, path, ref, corpus, args, r1tok, pool, nfc_only=False, checks=None):
    checks = checks or ["encode", "enc+special", "decode", "dec-skip", "round-trip", "fragments"]
    if nfc_only:
        corpus = [(l, t) for l, t in corpus if unicodedata.normalize("NFC", t) == t]
    labels = [l for l, _ in corpus]
    texts = [t for _, t in corpus]
    enc = lambda *a: [r1tok, "encode", "--tokenizer", path, "--jsonl", *a]
    dec = lambda *a: [r1tok, "decode", "--tokenizer", path, "--jsonl", *a]
    errors = []

    want_plain = ref.encode(texts, False)
    want_spec = ref.encode(texts, True)
    want_dec = ref.decode(want_plain, False)
    want_dec_skip = ref.decode(want_spec, True)
    frags, frag_src = [], []
    for i, l in enumerate(labels):
        ids = want_plain[i]
        if l.startswith(("edge:", "invalid:", "special:")) and 1 < len(ids) <= 64:
            for k in range(1, len(ids)):
                frags.append(ids[:k])
                frag_src.append(f"{l} ids[:{k}]")
    rng = random.Random(1234)
    for j in range(300):
        seq = [rng.randrange(ref.size) for _ in range(rng.randint(1, 12))]
        frags.append(seq)
        frag_src.append(f"random[{j}] {seq}")
    # llama.cpp's "[PADn]" filler rows decode to nothing in r1, as with the model's own tokenizer.json
    # (ids past its vocabulary); transformers' GGUF tokenizer spells them out. Compared without them.
    pad = {i for i in range(ref.size) if ref.backend.id_to_token(i) == f"[PAD{i}]"}
    want_frag = ref.decode([[t for t in f if t not in pad] or [] for f in frags], False)

    jobs = {
        "plain": pool.submit(ctp.run_jsonl, enc(), [json.dumps(t, ensure_ascii=False) for t in texts], errors),
        "spec": pool.submit(ctp.run_jsonl, enc("--special"), [json.dumps(t, ensure_ascii=True) for t in texts], errors),
        "dec": pool.submit(ctp.run_jsonl, dec(), [json.dumps(x) for x in want_plain], errors),
        "dec_skip": pool.submit(ctp.run_jsonl, dec("--skip-special"), [json.dumps(x) for x in want_spec], errors),
        "frag": pool.submit(ctp.run_jsonl, dec(), [json.dumps(x) for x in frags], errors),
    }
    got = {k: f.result() for k, f in jobs.items()}

    bad = {c: [] for c in checks}
    for i in range(len(texts)):
        for c, ok in (("encode", got["plain"][i] == want_plain[i]), ("enc+special", got["spec"][i] == want_spec[i]),
                      ("decode", got["dec"][i] == want_dec[i]), ("dec-skip", got["dec_skip"][i] == want_dec_skip[i]),
                      ("round-trip", got["dec"][i] == texts[i])):
            if c in bad and not ok:
                bad[c].append(i)
    for j in range(len(frags)):
        if got["frag"][j] != want_frag[j]:
            bad["fragments"].append(j)
    hf_rt = [i for i in range(len(texts)) if want_dec[i] != texts[i]]

    n_special = sum(1 for l in labels if l.startswith("special:"))
    print(f"\n=== {name} ({os.path.basename(path)}): {len(texts)} texts ({n_special} with added tokens), "
          f"{len(frags)} fragment id lists")
    for src, msg in errors[:12]:
        print(f"  r1tok FAILED on {ctp.trunc(src)}: {msg}")
    if hf_rt:
        print(f"  NOTE: the reference itself does not round-trip {len(hf_rt)} texts: "
              + ", ".join(labels[i] for i in hf_rt[:10]))
    for c, idxs in bad.items():
        if not idxs:
            continue
        print(f"  {c}: {len(idxs)} mismatches")
        for i in idxs[: args.show]:
            if c == "encode":
                ctp.show_ids_mismatch(ref.backend, labels[i], texts[i], want_plain[i], got["plain"][i])
            elif c == "enc+special":
                ctp.show_ids_mismatch(ref.backend, labels[i], texts[i], want_spec[i], got["spec"][i])
            elif c == "decode":
                ctp.show_str_mismatch(labels[i], texts[i], want_dec[i], got["dec"][i])
            elif c == "dec-skip":
                ctp.show_str_mismatch(labels[i], texts[i], want_dec_skip[i], got["dec_skip"][i])
            elif c == "round-trip":
                ctp.show_str_mismatch(labels[i] + " (original text)", texts[i], texts[i], got["dec"][i])
            else:
                ctp.show_str_mismatch(frag_src[i], frags[i], want_frag[i], got["frag"][i])
    counts = {c: len(v) for c, v in bad.items()}
    return (name, len(texts), len(frags), counts), bool(errors or any(counts.values()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--r1tok", default=os.path.join("build", "bin", "r1tok"))
    ap.add_argument("--show", type=int, default=3, help="mismatches shown per check and file")
    args = ap.parse_args()
    r1tok = args.r1tok if os.path.isabs(args.r1tok) or os.path.exists(args.r1tok) else os.path.join(ctp.ROOT, args.r1tok)
    if not os.path.exists(r1tok):
        print(f"r1tok not found: {r1tok}")
        return 1
    missing = [f for _, f in FILES if not os.path.isfile(os.path.join(MODELS, f))]
    if missing:
        print(f"FAIL: missing GGUF files in {MODELS}: {', '.join(missing)} (run scripts/fetch_models.sh)")
        return 1
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    tmpdir = tempfile.mkdtemp(prefix="r1-gguf-tok-parity-")
    try:
        shutil.copy2(r1tok, os.path.join(tmpdir, "r1tok"))  # a concurrent rebuild cannot swap it mid-run
        return _main(args, os.path.join(tmpdir, "r1tok"), tmpdir)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _main(args, r1tok, tmpdir):
    t0 = time.time()
    summary, any_fail = [], False
    with ThreadPoolExecutor(max_workers=4) as pool:
        for name, fname in FILES:
            path = os.path.join(MODELS, fname)
            ref = TransformersRef(path)
            row, fail = check_file(name, path, ref, build_corpus(ref.added()), args, r1tok, pool)
            summary.append(row)
            any_fail |= fail
        ref = TokenizersRef(R1_JSON)
        path = os.path.join(tmpdir, "r1_distill_synth.gguf")
        write_r1_distill_gguf(path, ref)
        row, fail = check_file("r1_distill_synth", path, ref, build_corpus(ref.added()), args, r1tok, pool,
                               nfc_only=True, checks=["encode", "enc+special", "decode", "round-trip", "fragments"])
        summary.append(row)
        any_fail |= fail
    cols = ["encode", "enc+special", "decode", "dec-skip", "round-trip", "fragments"]
    hdr = f"{'file':<18}{'texts':>7}{'frags':>7} | " + " ".join(f"{c:>11}" for c in cols)
    print("\n" + "=" * len(hdr) + "\nmismatches per check (0 = parity, - = not checked)\n" + hdr + "\n" + "-" * len(hdr))
    for name, n, nf, counts in summary:
        print(f"{name:<18}{n:>7}{nf:>7} | " + " ".join(f"{counts.get(c, '-'):>11}" for c in cols))
    print(f"{'FAIL' if any_fail else 'PASS'} ({time.time() - t0:.1f}s)")
    return 1 if any_fail else 0


if __name__ == "__main__":
    sys.exit(main())
