"""Feature parity of r1's tokenizer with HF `tokenizers` on small hand-built tokenizer.json files:
added tokens (single_word boundaries as Unicode \\w, lstrip/rstrip, normalized, content already in
the vocabulary), Split behaviours (Isolated, Removed, MergedWithPrevious/Next, invert, in
sequence), ByteLevel add_prefix_space, ignore_merges, merges as pairs, duplicate merges,
NFC/NFD/NFKC/NFKD normalizers, TemplateProcessing, and decoding of added tokens through the
ByteLevel decoder. The shared Qwen/R1-Distill/GPT-2 files are covered by check_tokenizer_parity.py.

Run from the repo root: .venv/bin/python tests/reference/check_tokenizer_features.py [--r1tok PATH]
Exit status 1 on any mismatch. (Split's Contiguous behaviour is not supported by r1.)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from tokenizers import Tokenizer

ap = argparse.ArgumentParser()
ap.add_argument("--r1tok", default="build/bin/r1tok")
ARGS = ap.parse_args()
R1TOK = ARGS.r1tok
TMP = tempfile.mkdtemp(prefix="r1-tokfeat-")
FAILED = []

from tokenizers import Tokenizer
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~")+1))+list(range(ord("¡"), ord("¬")+1))+list(range(ord("®"), ord("ÿ")+1))
    cs = bs[:]; n = 0
    for b in range(256):
        if b not in bs: bs.append(b); cs.append(256+n); n += 1
    return dict(zip(bs, [chr(c) for c in cs]))
B2U = bytes_to_unicode()
def enc(s): return ''.join(B2U[b] for b in s.encode())
def base(merges_words=("hello","world","ab","the"," the"," hello")):
    vocab = {}
    for b in range(256): vocab[B2U[b]] = len(vocab)
    merges = []
    for w in merges_words:
        t = enc(w)
        cur = t[0]
        for ch in t[1:]:
            if cur+ch not in vocab:
                vocab[cur+ch] = len(vocab); merges.append(f"{cur} {ch}")
            cur = cur+ch
    return {"version":"1.0","truncation":None,"padding":None,"added_tokens":[],
            "normalizer":None,
            "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":False,"trim_offsets":True,"use_regex":True},
            "post_processor":None,
            "decoder":{"type":"ByteLevel","add_prefix_space":True,"trim_offsets":True,"use_regex":True},
            "model":{"type":"BPE","dropout":None,"unk_token":None,"continuing_subword_prefix":None,"end_of_word_suffix":None,"fuse_unk":False,"byte_fallback":False,"ignore_merges":False,"vocab":vocab,"merges":merges}}
def add_tok(t, content, **kw):
    vid = max(max(t["model"]["vocab"].values()), max([a["id"] for a in t["added_tokens"]] or [0]))+1
    a = {"id":vid,"content":content,"single_word":False,"lstrip":False,"rstrip":False,"normalized":False,"special":True}
    a.update(kw); t["added_tokens"].append(a); return vid
def compare(t, texts, name="t", special=False):
    path = os.path.join(TMP, f"{name}.json")
    json.dump(t, open(path,"w"), ensure_ascii=False)
    hf = Tokenizer.from_file(path)
    inp = "\n".join(json.dumps(x, ensure_ascii=False) for x in texts)+"\n"
    args = [R1TOK,"encode","--tokenizer",path,"--jsonl","--threads","1"]
    if special: args.append("--special")
    r = subprocess.run(args, input=inp.encode(), capture_output=True)
    if r.returncode: print(name, "R1TOK ERROR", r.stderr.decode()); FAILED.append(name); return
    outs = [json.loads(l) for l in r.stdout.decode().splitlines()]
    bad = 0
    for x, o in zip(texts, outs):
        h = hf.encode(x, add_special_tokens=special).ids
        if h != o:
            bad += 1
            print(f"[{name}] MISMATCH {x!r}\n  hf={h} {[hf.id_to_token(i) for i in h]}\n  r1={o} {[hf.id_to_token(i) for i in o]}")
    print(f"[{name}] {len(texts)-bad}/{len(texts)} ok")
    if bad: FAILED.append(name)


# ---- added tokens: single_word -------------------------------------------------------------
t = base()
add_tok(t, "qz", single_word=True, special=False)
add_tok(t, "q", special=False)
compare(t, ["xqz", "qz", " qz ", "xqzqz", "qz_", "q qz", "éqz", "qz9", "xq", "qzqz", "ाqz", "qzा", "ⅷqz", "\u0345qz", "qz qzx"], "sw")
t = base()
add_tok(t, "qzz", single_word=True, special=False)
add_tok(t, "zz", special=False)
compare(t, ["xqzz", "qzz", "qzzy"], "sw2")
t = base()
add_tok(t, "qz", single_word=True, special=False)
compare(t, ["\u0301qz", "qz\u0301", "\u203fqz", "qz\u203f", "²qz", "qz²", "\u200dqz", "٣qz", "_qz"], "sw3")

# ---- Split behaviours -------------------------------------------------------------------------
texts = ["a--b", "-ab-", "hello-world--the", "--", "x-y-z", "a - b", "-", "ab", "a-b c-d", " the-hello "]
for beh in ["Isolated","Removed","MergedWithPrevious","MergedWithNext"]:
  for inv in [False, True]:
    t = base(("a--b","--","a-","-b","x-y-z","-ab-","the-","-hello","hello-", " -", "- "))
    t["pre_tokenizer"] = {"type":"Sequence","pretokenizers":[
        {"type":"Split","pattern":{"String":"-"},"behavior":beh,"invert":inv},
        {"type":"ByteLevel","add_prefix_space":False,"trim_offsets":True,"use_regex":False}]}
    compare(t, texts, f"split_{beh}_{inv}")
# two splits in sequence: MergedWithPrevious across pieces
t = base(("a--b","--","a-","-b","x-y-z","-ab-","the-","-hello","hello-", " -", "- "))
t["pre_tokenizer"] = {"type":"Sequence","pretokenizers":[
    {"type":"Split","pattern":{"String":" "},"behavior":"Isolated","invert":False},
    {"type":"Split","pattern":{"String":"-"},"behavior":"MergedWithPrevious","invert":False},
    {"type":"ByteLevel","add_prefix_space":False,"trim_offsets":True,"use_regex":False}]}
compare(t, texts, "seq_mwp")

# ---- ByteLevel add_prefix_space ----------------------------------------------------------------
W=("hello","world","the"," the"," hello"," world")
t = base(W)
t["pre_tokenizer"]["add_prefix_space"]=True
add_tok(t, "<s>")
compare(t, ["hello world", " hello", "hello<s>world", "<s>hello", "", "\nhello", "hello <s> world"], "aps")
t = base(W)
t["pre_tokenizer"] = {"type":"Sequence","pretokenizers":[
    {"type":"Split","pattern":{"Regex":"\\d"},"behavior":"Isolated","invert":False},
    {"type":"ByteLevel","add_prefix_space":True,"trim_offsets":True,"use_regex":False}]}
compare(t, ["hello1world", "1hello", "hello 1 world"], "aps_seq")
t = base(W)
t["pre_tokenizer"]["use_regex"]=False
t["pre_tokenizer"]["add_prefix_space"]=True
compare(t, ["hello world", "hello"], "aps_noregex")

# ---- model options and normalizers --------------------------------------------------------------
W=("hello","world","the"," the"," hello"," world")
# ignore_merges: add a vocab token reachable only w/o merges
t = base(W)
t["model"]["ignore_merges"]=True
v=t["model"]["vocab"]; v[enc("xyz")] = len(v)
compare(t, ["xyz", "hello xyz", "xyzz"], "ignm")
# merges as pairs
t = base(W)
t["model"]["merges"] = [m.split(" ") for m in t["model"]["merges"]]
compare(t, ["hello world the", " the hello"], "pairs")
# duplicate merge with different rank
t = base(("ab","bc"))
ms = t["model"]["merges"]
t["model"]["merges"] = ms + [ms[0]]
compare(t, ["abc"], "dupmerge")
# normalizers
for nm in ["NFD","NFKC","NFC","NFKD"]:
    t = base(W)
    t["normalizer"]={"type":nm}
    compare(t, ["é", "e\u0301", "ﬁ hello", "Å", "①", "ｈｅｌｌｏ", "가", "\u1100\u1161", "ǅ", "ẛ̣", "\u0344", "\U0001D400"], "norm_"+nm)
t = base(W)
t["normalizer"]={"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"NFD"}]}
compare(t, ["ﬁé"], "normseq")
# normalized added token
t = base(W)
add_tok(t, "é", normalized=True, special=False)
t["normalizer"]={"type":"NFC"}
compare(t, ["e\u0301", "é", "xe\u0301y"], "normadded")
t = base(W)
add_tok(t, "ﬁ", normalized=False, special=False)
t["normalizer"]={"type":"NFKC"}
compare(t, ["ﬁ", "fi ﬁ"], "nonnormadded")

# ---- decoding of added tokens -------------------------------------------------------------------
t = base()
a=add_tok(t, "<é>", special=False); b=add_tok(t, "<Ġx>", special=False); c=add_tok(t,"日本 語",special=False); d=add_tok(t,"<sp>",special=True)
json.dump(t, open(os.path.join(TMP, "dec.json"),"w"), ensure_ascii=False)
hf = Tokenizer.from_file(os.path.join(TMP, "dec.json"))
for ids in [[a],[b],[c],[104,a,105],[d,104],[104, d]]:
  for skip in [False, True]:
    r = subprocess.run([R1TOK,"decode","--tokenizer",os.path.join(TMP, "dec.json")]+(["--skip-special"] if skip else []), input=json.dumps(ids).encode(), capture_output=True)
    h = hf.decode(ids, skip_special_tokens=skip)
    ok = h == r.stdout.decode()
    print("[decode]", ids, skip, repr(h), repr(r.stdout.decode()), "OK" if ok else "MISMATCH")
    if not ok: FAILED.append(f"decode {ids}")

# ---- added content in the vocabulary, post-processors ----------------------------------------------
t = base()
add_tok(t, "hello", special=True)
compare(t, ["hello", "say hello"], "addinvocab")
t = base()
s = add_tok(t, "<s>"); e = add_tok(t, "</s>")
t["post_processor"] = {"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}],
  "pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],
  "special_tokens":{"<s>":{"id":"<s>","ids":[s],"tokens":["<s>"]},"</s>":{"id":"</s>","ids":[e],"tokens":["</s>"]}}}
compare(t, ["hello", ""], "tmpl", special=True)
t["post_processor"] = {"type":"Sequence","processors":[{"type":"ByteLevel","add_prefix_space":True,"trim_offsets":False,"use_regex":True}, t["post_processor"]]}
compare(t, ["hello", ""], "tmplseq", special=True)

print("FAIL: " + ", ".join(FAILED) if FAILED else "PASS")
sys.exit(1 if FAILED else 0)
