"""Loads a checkpoint directory that r1train wrote with `transformers` (model and tokenizer) and
prints, as one JSON line, transformers' SFT loss on the rows of a JSONL file (encoded as
make_sft_goldens.encode_row does) plus the ids, so the C++ test can compare them with r1's.

Run: .venv/bin/python tests/reference/check_hf_load.py CHECKPOINT_DIR DATA.jsonl
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_sft_goldens import encode_row, hf_loss  # noqa: E402


def main():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ckpt, data = sys.argv[1], sys.argv[2]
    tok = AutoTokenizer.from_pretrained(ckpt)
    model = AutoModelForCausalLM.from_pretrained(ckpt)
    model.eval()
    with open(data) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    encoded = [encode_row(tok, r) for r in rows]
    pad_id = model.config.pad_token_id if model.config.pad_token_id is not None else 0
    dtype = str(model.dtype)  # as loaded (the checkpoint's torch_dtype); the loss runs in float32
    with torch.no_grad():
        loss = hf_loss(model.float(), encoded, pad_id).item()
    print(json.dumps({"loss": loss, "dtype": dtype, "ids": [i for i, _ in encoded],
                      "architecture": type(model).__name__}))


if __name__ == "__main__":
    main()
