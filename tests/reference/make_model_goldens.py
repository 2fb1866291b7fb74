"""Makes the tiny random-init Qwen2/Llama checkpoints in tests/data/models/ and the goldens in
tests/data/goldens/ that the C++ parity tests compare against, using the real `transformers`.

Run: .venv/bin/python tests/reference/make_model_goldens.py   (deterministic; rewrites the files)

Per model the goldens hold: fixed input ids; float32 logits at every position (the model upcast to
float32 when stored in bf16); for bf16 models also the bf16 logits; logits of a left-padded batch;
and 32-token greedy continuations of each row (stopping at EOS as transformers does).
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "tests", "data", "models")
GOLDENS = os.path.join(ROOT, "tests", "data", "goldens")
SHARED_TINY_LLAMA = os.path.join(ROOT, "..", "shared", "data", "models", "tiny_llama_verl_random")

COMMON = dict(vocab_size=320, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
              max_position_embeddings=256, rms_norm_eps=1e-6, initializer_range=0.15,
              bos_token_id=1, eos_token_id=2, pad_token_id=0)

SPECS = {
    # GQA, q/k/v biases, untied, float32; saved in shards to exercise the index.
    "qwen2-gqa-fp32": ("qwen2", dict(num_attention_heads=4, num_key_value_heads=2,
                                     rope_theta=10000.0, tie_word_embeddings=False),
                       torch.float32, "60KB"),
    # MQA (one KV head), tied embeddings, stored in bf16.
    "qwen2-tied-bf16": ("qwen2", dict(num_attention_heads=4, num_key_value_heads=1,
                                      rope_theta=1000000.0, tie_word_embeddings=True),
                        torch.bfloat16, None),
    # llama3 rope scaling, GQA, attention and MLP biases.
    "llama-rope3-fp32": ("llama", dict(num_attention_heads=4, num_key_value_heads=2,
                                       rope_theta=500000.0, attention_bias=True, mlp_bias=True,
                                       tie_word_embeddings=False,
                                       rope_scaling=dict(rope_type="llama3", factor=8.0,
                                                         low_freq_factor=1.0, high_freq_factor=4.0,
                                                         original_max_position_embeddings=64)),
                         torch.float32, None),
    # Tied, plain multi-head attention, head_dim not equal to hidden / heads.
    "llama-tied-mha-fp32": ("llama", dict(num_attention_heads=4, num_key_value_heads=4,
                                          head_dim=32, rope_theta=10000.0,
                                          tie_word_embeddings=True),
                            torch.float32, None),
}


def make_model(name, spec):
    model_type, extra, dtype, shard = spec
    torch.manual_seed(sum(map(ord, name)))
    cfg_cls = Qwen2Config if model_type == "qwen2" else LlamaConfig
    config = cfg_cls(**COMMON, **extra)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    # Random norms too, so a mistake in RMSNorm weights cannot hide behind all-ones.
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "norm" in n:
                p.uniform_(0.5, 1.5)
            if n.endswith("bias"):
                p.normal_(0, 0.1)
    model = model.to(dtype)
    out = os.path.join(MODELS, name)
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        os.remove(os.path.join(out, f))
    kwargs = {"max_shard_size": shard} if shard else {}
    model.save_pretrained(out, **kwargs)
    return out


def goldens(name, path, dtype):
    g = torch.Generator().manual_seed(1234)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    vocab = model.config.vocab_size
    B, T = 2, 12
    ids = torch.randint(3, vocab, (B, T), generator=g)
    tensors = {"input_ids": ids}
    with torch.no_grad():
        tensors["logits"] = model(ids).logits.float().contiguous()
        # Left-padded batch: row 0 short (first 5 ids padded away), row 1 full.
        mask = torch.ones(B, T, dtype=torch.long)
        mask[0, :5] = 0
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        tensors["padded_mask"] = mask
        tensors["padded_logits"] = model(ids, attention_mask=mask, position_ids=pos).logits.contiguous()
        greedy = {}
        for label, m in [("float32", model)] + (
                [("bfloat16", AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16).eval())]
                if dtype == torch.bfloat16 else []):
            if label == "bfloat16":
                tensors["logits_bf16"] = m(ids).logits.float().contiguous()
            rows = []
            for b in range(B):
                prompt = ids[b : b + 1, :6]
                out = m.generate(prompt, do_sample=False, max_new_tokens=32,
                                 attention_mask=torch.ones_like(prompt),
                                 pad_token_id=model.config.pad_token_id)
                new = out[0, prompt.shape[1]:].tolist()
                eos = model.generation_config.eos_token_id
                eos = [eos] if isinstance(eos, int) else list(eos or [])
                for i, t in enumerate(new):
                    if t in eos:
                        new = new[: i + 1]
                        break
                rows.append({"prompt": prompt[0].tolist(), "greedy": new})
            greedy[label] = rows
    os.makedirs(GOLDENS, exist_ok=True)
    save_file(tensors, os.path.join(GOLDENS, name + ".safetensors"))
    with open(os.path.join(GOLDENS, name + ".json"), "w") as f:
        json.dump({"model": os.path.relpath(path, ROOT), "greedy": greedy}, f, indent=1)
        f.write("\n")


def main():
    torch.set_num_threads(2)
    for name, spec in SPECS.items():
        path = make_model(name, spec)
        goldens(name, path, spec[2])
        print("wrote", name)
    if os.path.isdir(SHARED_TINY_LLAMA):
        goldens("tiny-llama-verl", SHARED_TINY_LLAMA, torch.bfloat16)
        print("wrote tiny-llama-verl")
    else:
        sys.exit("missing " + SHARED_TINY_LLAMA)


if __name__ == "__main__":
    main()
