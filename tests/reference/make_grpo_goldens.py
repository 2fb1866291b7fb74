"""Makes tests/data/goldens/grpo_loss.json, the goldens of tests/rl/test_parity_grpo_loss.cpp, from
the pinned `trl` (requirements.txt): the GRPO loss, d(loss)/d(logps) and the logged metrics of
`GRPOTrainer._compute_loss` itself, called unbound on a stand-in trainer (no model, no datasets,
no accelerate state); group advantages; the DAPO soft overlong punishment; token entropy.

Run: .venv/bin/python tests/reference/make_grpo_goldens.py   (deterministic; rewrites the file)

What is called and what is transcribed:
- loss, gradient, metrics: `GRPOTrainer._compute_loss(stand_in, model_stub, inputs)`, TRL's own code.
  The stand-in carries the attributes `GRPOTrainer.__init__` derives from a real `GRPOConfig`
  (those few assignments are copied from __init__), its `_get_per_token_logps_and_entropies`
  returns our fixed float64 log-probs (a leaf tensor, so autograd gives d(loss)/d(logps)) and
  entropies, and its `accelerator` is a one-process stand-in (gather/reduce are the identity).
- advantages: TRL computes them inline in `_generate_and_score_completions` (not callable without
  generation and reward models), so the "sum_then_normalize" block for one reward function is
  transcribed below (`trl_advantages`); it calls TRL's own `nanstd`.
- overlong punishment: `trl.rewards.get_soft_overlong_punishment`, called.
- entropy: `trl.trainer.utils.entropy_from_logits`, called (its CPU path).
"""
import json
import math
import os
import tempfile
import warnings
from collections import defaultdict
from types import SimpleNamespace

import torch
import trl
from trl import GRPOConfig, GRPOTrainer
from trl.rewards import get_soft_overlong_punishment
from trl.trainer.utils import entropy_from_logits, nanstd

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "goldens", "grpo_loss.json")

warnings.filterwarnings("ignore")
F64 = torch.float64  # every float input; torch's default dtype stays float32, as in training


def r(x):
    """Floats for JSON: round-trip exact (repr); NaN as null."""
    if isinstance(x, torch.Tensor):
        return [r(v) for v in x.tolist()] if x.dim() > 0 else r(x.item())
    if isinstance(x, list):
        return [r(v) for v in x]
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


# ---------------------------------------------------------------------------------------------
# Inputs: a few fixed (B, T) sets. Masks are right-padded completions of varied length; set 1 has
# a fully masked row (a truncated completion under mask_truncated_completions) and a hole (a tool
# result inside a completion); advantages mix signs and zeros.
def make_inputs(seed, B, T, lengths, holes=()):
    g = torch.Generator().manual_seed(seed)
    logps = -torch.rand(B, T, generator=g, dtype=F64) * 3.0 - 0.01  # log-probs in (-3, 0)
    # Old and reference log-probs off by up to ~0.5 nats: ratios land well outside [0.8, 1.28].
    old = logps + (torch.rand(B, T, generator=g, dtype=F64) - 0.5) * 1.0
    ref = logps + (torch.rand(B, T, generator=g, dtype=F64) - 0.5) * 1.2
    mask = torch.zeros(B, T, dtype=torch.int64)
    for b, n in enumerate(lengths):
        mask[b, :n] = 1
    for b, t in holes:
        mask[b, t] = 0
    adv = torch.randn(B, generator=g, dtype=F64)
    adv[0] = 0.0
    entropies = torch.rand(B, T, generator=g, dtype=F64) * 4.0
    return dict(B=B, T=T, logps=logps, old_logps=old, ref_logps=ref, mask=mask,
                advantages=adv, entropies=entropies)


INPUTS = [
    make_inputs(1, 3, 6, [6, 4, 2]),
    make_inputs(2, 4, 8, [8, 0, 5, 3], holes=[(0, 2), (2, 1)]),
    make_inputs(3, 5, 5, [5, 5, 1, 3, 4]),
]


# ---------------------------------------------------------------------------------------------
# A stand-in for the trainer: the attributes _compute_loss reads, set as GRPOTrainer.__init__ sets
# them from a real GRPOConfig.
class OneProcess:
    num_processes = 1
    process_index = 0
    sync_gradients = True

    @staticmethod
    def gather(x):
        return x

    @staticmethod
    def gather_for_metrics(x):
        return x

    @staticmethod
    def reduce(x, reduction="sum"):
        return x


def stand_in(args, logps, entropies, training, ga_steps):
    s = SimpleNamespace()
    s.args = args
    # Copied from GRPOTrainer.__init__ (trl 1.16.0).
    s.max_completion_length = args.max_completion_length
    s.loss_type = args.loss_type
    s.scale_rewards = args.scale_rewards
    s.importance_sampling_level = args.importance_sampling_level
    s.off_policy_mask_threshold = args.off_policy_mask_threshold
    s.top_entropy_quantile = args.top_entropy_quantile
    s.entropy_coef = args.entropy_coef
    s.use_adaptive_entropy = args.use_adaptive_entropy
    s._entropy_bonus_enabled = s.entropy_coef != 0.0 or s.use_adaptive_entropy
    s.beta = args.beta
    s.epsilon_low = args.epsilon
    s.epsilon_high = args.epsilon_high if args.epsilon_high is not None else args.epsilon
    s.use_vllm = args.use_vllm
    s.vllm_importance_sampling_correction = args.vllm_importance_sampling_correction
    s.aux_loss_enabled = False
    # Runtime state the Trainer keeps.
    s.model = SimpleNamespace(training=training)
    s.current_gradient_accumulation_steps = ga_steps
    s.accelerator = OneProcess()
    s._metrics = {"train": defaultdict(list), "eval": defaultdict(list)}

    def per_token_logps_and_entropies(model, input_ids, attention_mask, logits_to_keep, **kw):
        assert logits_to_keep == logps.shape[1]
        return logps, entropies, None

    s._get_per_token_logps_and_entropies = per_token_logps_and_entropies
    return s


def trl_loss(inp, case, tmp):
    args = GRPOConfig(
        output_dir=tmp, report_to="none", use_cpu=True,
        loss_type=case["loss_type"], epsilon=case["epsilon"], epsilon_high=case["epsilon_high"],
        beta=case["beta"], delta=case["delta"],
        importance_sampling_level=case["importance_sampling_level"],
        use_bias_correction_kl=case["use_bias_correction_kl"],
        max_completion_length=case["max_completion_length"],
        per_device_train_batch_size=inp["B"], num_generations=inp["B"],
        gradient_accumulation_steps=case["gradient_accumulation_steps"],
        steps_per_generation=case["steps_per_generation"])
    logps = inp["logps"].clone().requires_grad_(True)
    s = stand_in(args, logps, inp["entropies"], case["training"], case["gradient_accumulation_steps"])
    B, T = inp["B"], inp["T"]
    inputs = {
        "prompt_ids": torch.zeros(B, 2, dtype=torch.int64),
        "prompt_mask": torch.ones(B, 2, dtype=torch.int64),
        "completion_ids": torch.zeros(B, T, dtype=torch.int64),
        "completion_mask": inp["mask"],
        "advantages": inp["advantages"],
        "num_items_in_batch": torch.tensor(int(case["num_items_in_batch"])),  # int64 as in TRL
    }
    if case["old"]:
        inputs["old_per_token_logps"] = inp["old_logps"]
    if case["beta"] != 0.0:
        inputs["ref_per_token_logps"] = inp["ref_logps"]
    loss = GRPOTrainer._compute_loss(s, None, inputs)
    (grad,) = torch.autograd.grad(loss, logps)
    mode = "train" if case["training"] else "eval"
    metrics = {k: v[-1] for k, v in s._metrics[mode].items()}
    return loss.item(), grad, metrics


def loss_cases():
    base = dict(epsilon=0.2, delta=None, importance_sampling_level="token",
                use_bias_correction_kl=True, max_completion_length=10, gradient_accumulation_steps=1,
                steps_per_generation=1, training=True, num_items_in_batch=None)
    cases = []
    i = 0
    # The grid the issue asks for: every loss_type x clip-higher x beta x num_iterations > 1.
    for loss_type in ["grpo", "bnpo", "dr_grpo", "dapo"]:
        for eps_high in [0.2, 0.28]:
            for beta in [0.0, 0.04]:
                for old in [False, True]:
                    cases.append(dict(base, input=i % len(INPUTS), loss_type=loss_type,
                                      epsilon_high=eps_high, beta=beta, old=old))
                    i += 1
    # Beyond the grid: the KL without the importance-ratio correction, two-sided clipping,
    # sequence-level ratios (GSPO), gradient accumulation and a generation batch larger than the
    # micro-batch (dapo's global normaliser), eval mode.
    for inp in range(len(INPUTS)):
        cases.append(dict(base, input=inp, loss_type="grpo", epsilon_high=0.28, beta=0.04, old=True,
                          use_bias_correction_kl=False))
        cases.append(dict(base, input=inp, loss_type="dapo", epsilon_high=0.28, beta=0.0, old=True,
                          delta=1.5))
        cases.append(dict(base, input=inp, loss_type="grpo", epsilon_high=0.2, beta=0.04, old=True,
                          importance_sampling_level="sequence"))
    for loss_type in ["grpo", "bnpo", "dr_grpo", "dapo"]:
        cases.append(dict(base, input=1, loss_type=loss_type, epsilon_high=0.28, beta=0.04, old=True,
                          gradient_accumulation_steps=4, steps_per_generation=2,
                          num_items_in_batch=61.0))
    cases.append(dict(base, input=2, loss_type="dapo", epsilon_high=0.28, beta=0.04, old=True,
                      gradient_accumulation_steps=4, steps_per_generation=2, num_items_in_batch=61.0,
                      training=False))
    cases.append(dict(base, input=0, loss_type="dr_grpo", epsilon_high=0.28, beta=0.0, old=True,
                      max_completion_length=16, training=False, gradient_accumulation_steps=2))
    for c in cases:
        if c["num_items_in_batch"] is None:  # one micro-batch = the generation batch
            c["num_items_in_batch"] = float(INPUTS[c["input"]]["mask"].sum())
    return cases


# ---------------------------------------------------------------------------------------------
# Advantages: transcribed from GRPOTrainer._generate_and_score_completions (trl 1.16.0),
# multi_objective_aggregation="sum_then_normalize" with one reward function of weight 1.
def trl_advantages(rewards_1d, num_generations, scale_rewards):
    rewards_per_func = rewards_1d.unsqueeze(1)
    reward_weights = torch.ones(1)  # float32, as TRL keeps them
    unscorable_mask = torch.isnan(rewards_per_func).all(dim=1)
    rewards = (rewards_per_func * reward_weights.unsqueeze(0)).nansum(dim=1)
    rewards[unscorable_mask] = torch.nan
    mean_grouped_rewards = torch.nanmean(rewards.view(-1, num_generations), dim=1)
    mean_grouped_rewards = mean_grouped_rewards.repeat_interleave(num_generations, dim=0)
    if scale_rewards in ["group", "none"]:
        if num_generations > 1:
            std_rewards = nanstd(rewards.view(-1, num_generations), dim=1)
            std_rewards = std_rewards.repeat_interleave(num_generations, dim=0)
        else:
            std_rewards = torch.zeros_like(rewards)
    elif scale_rewards == "batch":
        if rewards.numel() > 1:
            std_rewards = nanstd(rewards).expand_as(rewards)
        else:
            std_rewards = torch.zeros_like(rewards)
    else:
        raise ValueError(scale_rewards)
    advantages = rewards - mean_grouped_rewards
    if scale_rewards != "none":
        advantages = advantages / (std_rewards + 1e-4)
    advantages = torch.nan_to_num(advantages, nan=0.0)
    return advantages


def advantage_cases():
    g = torch.Generator().manual_seed(7)
    sets = []
    # Binary accuracy rewards, groups of 4, one all-correct and one all-wrong group (std 0).
    sets.append((4, torch.tensor([1., 0., 0., 1., 1., 1., 1., 1., 0., 0., 0., 0., 0., 1., 0., 0.],
                                 dtype=F64)))
    # Continuous rewards, groups of 8.
    sets.append((8, torch.randn(24, generator=g, dtype=F64) * 2.0 + 0.5))
    # Groups of 2 with an unscorable (NaN) completion, and a group of two NaNs.
    sets.append((2, torch.tensor([0.5, float("nan"), 1.0, 2.0, float("nan"), float("nan"), 3.0, 3.0],
                                 dtype=F64)))
    # One group (batch == group).
    sets.append((5, torch.rand(5, generator=g, dtype=F64)))
    cases = []
    for G, rewards in sets:
        for scale in ["group", "batch", "none"]:
            cases.append(dict(group_size=G, scale_rewards=scale, rewards=r(rewards),
                              advantages=r(trl_advantages(rewards, G, scale))))
    return cases


def overlong_cases():
    cases = []
    for max_len, cache in [(20, 5), (16, 0), (12, 12)]:
        lengths = list(range(0, max_len + 4))
        f = get_soft_overlong_punishment(max_completion_len=max_len, soft_punish_cache=cache)
        cases.append(dict(max_completion_length=max_len, overlong_buffer_len=cache, lengths=lengths,
                          penalties=f([[1] * n for n in lengths])))
    return cases


def entropy_cases():
    g = torch.Generator().manual_seed(11)
    logits = torch.randn(2, 3, 7, generator=g, dtype=F64) * 3.0
    logits[1, 2, :] = 0.0  # uniform row: entropy log(7)
    logits[0, 1, 3] = 60.0  # nearly one-hot
    return [dict(shape=list(logits.shape), logits=r(logits.flatten()),
                 entropy=r(entropy_from_logits(logits).flatten()))]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        out_cases = []
        for c in loss_cases():
            loss, grad, metrics = trl_loss(INPUTS[c["input"]], c, tmp)
            out_cases.append(dict(c, loss=loss, grad=r(grad.flatten()),
                                  metrics={k: r(float(v)) for k, v in sorted(metrics.items())}))
    inputs = [dict(B=i["B"], T=i["T"], logps=r(i["logps"].flatten()),
                   old_logps=r(i["old_logps"].flatten()), ref_logps=r(i["ref_logps"].flatten()),
                   mask=r(i["mask"].flatten()), advantages=r(i["advantages"]),
                   entropies=r(i["entropies"].flatten())) for i in INPUTS]
    golden = dict(
        generator="tests/reference/make_grpo_goldens.py",
        trl=trl.__version__, torch=torch.__version__, dtype="float64",
        inputs=inputs, loss_cases=out_cases, advantage_cases=advantage_cases(),
        overlong_cases=overlong_cases(), entropy_cases=entropy_cases())
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(out_cases)} loss cases, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
