"""Writes tests/data/goldens/sft_loss.json: what `transformers` and PyTorch compute for r1's SFT
on the tiny-r1 checkpoint, for tests/rl/test_parity_sft_loss.cpp to compare against.

Run: .venv/bin/python tests/reference/make_sft_goldens.py   (deterministic; rewrites the file)

The golden holds a few chat rows; their token ids and labels (-100 on the prompt, as transformers'
causal-LM loss wants), built the way r1 builds them (prompt = apply_chat_template(context,
add_generation_prompt=True); response = the reply, without a "<think>" the prompt already forces,
plus the template's end of turn; both tokenized without special tokens); transformers' loss on the
right-padded batch and the global gradient norm; the loss after one clipped torch.optim.AdamW step;
and transformers' cosine-with-min-lr schedule. encode_row and hf_loss are shared with
check_hf_load.py.
"""
import json
import math
import os

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "tests", "data", "models", "tiny-r1")
GOLDEN = os.path.join(ROOT, "tests", "data", "goldens", "sft_loss.json")

ROWS = [
    {"prompt": "What is 12 plus 30?",
     "response": "<think>\n12 plus 30 is 42.\n</think>\n\nThe answer is 42."},
    {"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Add 3 and 4."},
        {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n7"},
        {"role": "user", "content": "Now double it."},
        {"role": "assistant", "content": "<think>\n7 times 2\n</think>\n\n14"}]},
    {"prompt": [{"role": "user", "content": "Say hi."}], "response": "hi"},
]

MARK = "\x01r1-end-of-turn\x01"


def end_of_turn(tok):
    text = tok.apply_chat_template([{"role": "user", "content": "u"},
                                    {"role": "assistant", "content": MARK}], tokenize=False)
    return text[text.rindex(MARK) + len(MARK):].rstrip(" \t\n")


def encode_row(tok, row):
    """(ids, labels) of one SFT row, labels -100 on the prompt."""
    if "messages" in row:
        context, response = row["messages"][:-1], row["messages"][-1]["content"]
    else:
        prompt = row["prompt"]
        context = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        response = row["response"]
    prompt_text = tok.apply_chat_template(context, tokenize=False, add_generation_prompt=True)
    if prompt_text.endswith("<think>\n") and response.startswith("<think>"):
        response = response[len("<think>"):]
        if response.startswith("\n"):
            response = response[1:]
    p = tok(prompt_text, add_special_tokens=False)["input_ids"]
    r = tok(response + end_of_turn(tok), add_special_tokens=False)["input_ids"]
    return p + r, [-100] * len(p) + r


def pad_batch(encoded, pad_id):
    T = max(len(ids) for ids, _ in encoded)
    ids = torch.full((len(encoded), T), pad_id, dtype=torch.long)
    labels = torch.full((len(encoded), T), -100, dtype=torch.long)
    mask = torch.zeros((len(encoded), T), dtype=torch.long)
    for b, (i, l) in enumerate(encoded):
        ids[b, :len(i)] = torch.tensor(i)
        labels[b, :len(l)] = torch.tensor(l)
        mask[b, :len(i)] = 1
    return ids, labels, mask


def hf_loss(model, encoded, pad_id):
    """transformers' causal-LM loss (mean over label tokens) on the right-padded batch."""
    ids, labels, mask = pad_batch(encoded, pad_id)
    return model(input_ids=ids, attention_mask=mask, labels=labels).loss


def main():
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.optimization import get_cosine_with_min_lr_schedule_with_warmup

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(MODEL)
    model = AutoModelForCausalLM.from_pretrained(MODEL, dtype=torch.float32)
    model.train()  # dropout is 0 in the config; train mode as a trainer runs it
    pad_id = model.config.pad_token_id
    encoded = [encode_row(tok, r) for r in ROWS]

    loss = hf_loss(model, encoded, pad_id)
    loss.backward()
    params = [p for p in model.parameters()]
    grad_norm = torch.nn.utils.get_total_norm([p.grad for p in params]).item()
    lm_head_grad_norm = model.lm_head.weight.grad.norm().item()

    # One optimiser step as r1 takes it: clip to 1.0, AdamW with decay on matrices only.
    lr, clip, wd = 1e-3, 0.5, 0.1
    torch.nn.utils.clip_grad_norm_(params, clip)
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": wd},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8, foreach=False)
    opt.step()
    with torch.no_grad():
        loss_after = hf_loss(model, encoded, pad_id).item()

    warmup, total, min_ratio, peak = 3, 12, 0.1, 2e-4
    sched_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=peak)
    sched = get_cosine_with_min_lr_schedule_with_warmup(sched_opt, warmup, total,
                                                        min_lr_rate=min_ratio)
    lrs = []
    for _ in range(total):
        lrs.append(sched_opt.param_groups[0]["lr"])
        sched_opt.step()
        sched.step()

    golden = {
        "model": "tests/data/models/tiny-r1",
        "rows": ROWS,
        "ids": [ids for ids, _ in encoded],
        "labels": [labels for _, labels in encoded],
        "pad_id": pad_id,
        "loss": loss.item(),
        "grad_norm": grad_norm,
        "lm_head_grad_norm": lm_head_grad_norm,
        "step": {"lr": lr, "clip": clip, "weight_decay": wd, "loss_after": loss_after},
        "schedule": {"lr": peak, "warmup_steps": warmup, "total_steps": total,
                     "min_lr_ratio": min_ratio, "values": lrs},
    }
    assert all(math.isfinite(v) for v in (golden["loss"], grad_norm, loss_after))
    with open(GOLDEN, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print(f"wrote {GOLDEN}: loss {golden['loss']:.6f}, grad norm {grad_norm:.6f}, "
          f"after one step {loss_after:.6f}")


if __name__ == "__main__":
    main()
