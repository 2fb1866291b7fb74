"""Makes tests/data/goldens/kd_loss.json, the goldens of tests/distill/test_parity_kd_loss.cpp, from
the pinned `trl` (requirements.txt): the logit-level distillation losses of distill/kd_loss and the
teacher top-K of distill/teacher_cache, with d(loss)/d(student_logits) by autograd.

Run: .venv/bin/python tests/reference/make_kd_goldens.py   (deterministic; rewrites the file)

What is called and what is transcribed:
- full-logit loss: `GKDTrainer.generalized_jsd_loss`, TRL's own code (a staticmethod, called without
  a trainer), for beta 0 / 1 / in between, temperatures, every reduction, -100 labels or none, and
  `num_items_in_batch`.
- top-K loss: TRL's teacher-server distillation (`trl.experimental.server_distillation`) compares
  the student with a teacher known only by its top-K log-probs. Its `_compute_server_forward_kl_loss`
  (called unbound on a stand-in trainer, TRL's own code) covers beta 0 with "batchmean"; r1 also
  uses top-K for other betas and reductions, so `topk_reference` below transcribes that method's
  body with beta, temperature and reduction as parameters; it calls TRL's own `_add_tail_bucket`,
  `_jsd_divergence` and `_reduce_divergence_loss`. main() checks the transcription against TRL's
  method where both apply.
- teacher top-K: `torch.topk` of `log_softmax(teacher_logits / temperature)`, most likely first.
Everything is float64; logits are seeded random draws.
"""
import json
import math
import os
import warnings
from types import SimpleNamespace

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import trl  # noqa: E402
from trl.experimental.gkd import GKDTrainer  # noqa: E402
from trl.experimental.server_distillation.server_distillation_trainer import (  # noqa: E402
    ServerDistillationTrainer,
    _add_tail_bucket,
    _jsd_divergence,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "goldens", "kd_loss.json")

warnings.filterwarnings("ignore")
F64 = torch.float64


def r(x):
    """Floats for JSON: round-trip exact (repr); NaN as null, infinities as "inf"/"-inf"."""
    if isinstance(x, torch.Tensor):
        return [r(v) for v in x.tolist()] if x.dim() > 0 else r(x.item())
    if isinstance(x, list):
        return [r(v) for v in x]
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


# ---------------------------------------------------------------------------------------------
# Inputs: (B, T, V) student and teacher logits, and labels with -100 on prompt and padding
# positions (set 1 has a fully masked row; set 2 has no labels; set 3 masks everything). The
# teacher is sharper than the student and partly agrees with it, as after some training.
def make_inputs(seed, B, T, V, masked=None, labels=True):
    g = torch.Generator().manual_seed(seed)
    student = torch.randn(B, T, V, generator=g, dtype=F64) * 2.0
    teacher = 0.5 * student + torch.randn(B, T, V, generator=g, dtype=F64) * 3.0
    out = dict(B=B, T=T, V=V, student=student, teacher=teacher, labels=None)
    if labels:
        lab = torch.randint(0, V, (B, T), generator=g, dtype=torch.int64)
        for b, t in masked or []:
            lab[b, t] = -100
        out["labels"] = lab
    return out


INPUTS = [
    make_inputs(1, 2, 4, 11, masked=[(0, 0), (0, 1), (1, 3)]),
    make_inputs(2, 3, 3, 9, masked=[(1, 0), (1, 1), (1, 2), (2, 0)]),
    make_inputs(3, 2, 2, 7, labels=False),
    make_inputs(4, 1, 3, 5, masked=[(0, 0), (0, 1), (0, 2)]),
]
# A near one-hot teacher position: its tail mass is tiny (the tail bucket's clamp).
INPUTS[1]["teacher"][0, 2, 4] = 40.0


def loss_cases():
    cases = []

    def add(i, betas, temps, reductions, num_items=None):
        for beta in betas:
            for temp in temps:
                for red in reductions:
                    cases.append(dict(input=i, beta=beta, temperature=temp, reduction=red,
                                      num_items_in_batch=num_items))

    every = ["batchmean", "sum", "mean", "none"]
    add(0, [0.0, 1.0, 0.5, 0.1, 0.9], [1.0], every)
    add(0, [0.0, 1.0, 0.5], [2.0], ["batchmean", "none"])
    add(1, [0.0, 1.0, 0.5, 0.25], [0.7], ["batchmean", "none"])
    add(2, [0.0, 1.0, 0.5], [1.5], every)
    add(3, [0.0, 0.5], [1.0], ["batchmean", "sum", "mean"])
    add(0, [0.0, 0.5], [1.0], ["batchmean"], num_items=37.0)
    return cases


def none_weights(shape, seed=99):
    """Weights whose dot product with a "none" loss is back-propagated (a sum would repeat "sum")."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g, dtype=F64) + 0.5


def backprop(loss, student, reduction):
    if reduction == "none":
        w = none_weights(loss.shape)
        (loss * w).sum().backward()
        return w
    loss.backward()
    return None


def full_case(c):
    inp = INPUTS[c["input"]]
    student = inp["student"].clone().requires_grad_(True)
    loss = GKDTrainer.generalized_jsd_loss(
        student_logits=student, teacher_logits=inp["teacher"], labels=inp["labels"],
        beta=c["beta"], temperature=c["temperature"], reduction=c["reduction"],
        num_items_in_batch=c["num_items_in_batch"])
    w = backprop(loss, student, c["reduction"])
    out = dict(c, loss=r(loss.detach().flatten()) if c["reduction"] == "none" else r(loss.detach()),
               loss_shape=list(loss.shape), grad=r(student.grad.flatten()))
    if w is not None:
        out["none_weights"] = r(w.flatten())
    return out


# ---------------------------------------------------------------------------------------------
# Top-K.
def teacher_topk(teacher_logits, k, temperature):
    lp = F.log_softmax(teacher_logits / temperature, dim=-1)
    v, i = torch.topk(lp, k, dim=-1)
    return i, v


def topk_reference(student_logits, ids, tlp, labels, beta, temperature, reduction, add_tail,
                   num_items_in_batch=None):
    """The body of ServerDistillationTrainer._compute_server_forward_kl_loss with beta, temperature
    (applied to the student as compute_loss does) and reduction as parameters."""
    student_log_probs = F.log_softmax(student_logits / temperature, dim=-1)
    valid = tlp > float("-inf")
    neg_inf = torch.full((), float("-inf"), dtype=student_log_probs.dtype)
    student_topk = student_log_probs.gather(dim=-1, index=ids)
    student_topk = torch.where(valid, student_topk, neg_inf)
    teacher_topk_ = torch.where(valid, tlp, neg_inf)
    if add_tail:
        s, support = _add_tail_bucket(student_topk, valid)
        t, _ = _add_tail_bucket(teacher_topk_, valid)
    else:
        support = valid
        s = student_topk - torch.logsumexp(student_topk, dim=-1, keepdim=True)
        t = teacher_topk_ - torch.logsumexp(teacher_topk_, dim=-1, keepdim=True)
    jsd = _jsd_divergence(s, t, beta, support_mask=support)
    mask = labels != -100 if labels is not None else None
    return ServerDistillationTrainer._reduce_divergence_loss(
        jsd, completion_mask=mask, reduction=reduction, num_items_in_batch=num_items_in_batch)


def trl_server_forward_kl(student_logits, ids, tlp, labels, temperature, add_tail):
    """TRL's own method, unbound, on a stand-in trainer (it reads self.loss_add_tail and calls
    self._reduce_divergence_loss)."""
    self = SimpleNamespace(loss_add_tail=add_tail,
                           _reduce_divergence_loss=ServerDistillationTrainer._reduce_divergence_loss)
    student_log_probs = F.log_softmax(student_logits / temperature, dim=-1)
    return ServerDistillationTrainer._compute_server_forward_kl_loss(
        self, teacher_result=dict(topk_logprobs=tlp, topk_token_ids=ids),
        student_log_probs=student_log_probs, labels=labels)


def topk_cases():
    cases = []

    def add(i, ks, betas, temps, reductions, tails, pad=False):
        for k in ks:
            for beta in betas:
                for temp in temps:
                    for red in reductions:
                        for tail in tails:
                            cases.append(dict(input=i, k=k, beta=beta, temperature=temp,
                                              reduction=red, add_tail=tail, pad=pad))

    V0 = INPUTS[0]["V"]
    add(0, [1, 3, V0], [0.0, 1.0, 0.5], [1.0], ["batchmean"], [True, False])
    add(0, [3], [0.5], [1.0], ["sum", "mean", "none"], [True, False])
    add(1, [2], [0.0, 0.3], [0.7], ["batchmean", "none"], [True, False])
    add(1, [4], [0.0, 1.0, 0.5], [1.0], ["batchmean"], [True, False], pad=True)
    add(2, [3], [0.0, 0.5], [1.5], ["batchmean", "mean"], [True])
    return cases


def topk_inputs(c):
    inp = INPUTS[c["input"]]
    ids, tlp = teacher_topk(inp["teacher"], c["k"], c["temperature"])
    if c["pad"]:
        # A teacher that returned fewer than K entries at some positions (TRL's server pads those
        # with -inf log-probs and id 0).
        tlp = tlp.clone()
        ids = ids.clone()
        tlp[0, 0, 3:] = float("-inf")
        ids[0, 0, 3:] = 0
        tlp[2, 1, 1:] = float("-inf")
        ids[2, 1, 1:] = 0
    return inp, ids, tlp


TEACHERS = {}  # (input, k, temperature, pad) -> index into the golden's topk_teachers


def topk_case(c):
    inp, ids, tlp = topk_inputs(c)
    key = (c["input"], c["k"], c["temperature"], c["pad"])
    if key not in TEACHERS:
        TEACHERS[key] = dict(input=c["input"], k=c["k"], temperature=c["temperature"],
                             pad=c["pad"], ids=r(ids.flatten()), logprobs=r(tlp.flatten()))
    c = dict(c, teacher=list(TEACHERS).index(key))
    student = inp["student"].clone().requires_grad_(True)
    loss = topk_reference(student, ids, tlp, inp["labels"], c["beta"], c["temperature"],
                          c["reduction"], c["add_tail"])
    if c["beta"] == 0.0 and c["reduction"] == "batchmean" and inp["labels"] is not None:
        with torch.no_grad():
            trl_loss = trl_server_forward_kl(inp["student"], ids, tlp, inp["labels"],
                                             c["temperature"], c["add_tail"])
        assert torch.equal(trl_loss, loss.detach()), (c, trl_loss, loss)
        c = dict(c, checked_against_trl_method=True)
    w = backprop(loss, student, c["reduction"])
    out = dict(c, loss=r(loss.detach().flatten()) if c["reduction"] == "none" else r(loss.detach()),
               loss_shape=list(loss.shape), grad=r(student.grad.flatten()))
    if w is not None:
        out["none_weights"] = r(w.flatten())
    return out


def main():
    torch.manual_seed(0)
    full = [full_case(c) for c in loss_cases()]
    topk = [topk_case(c) for c in topk_cases()]
    inputs = [dict(B=i["B"], T=i["T"], V=i["V"], student=r(i["student"].flatten()),
                   teacher=r(i["teacher"].flatten()),
                   labels=None if i["labels"] is None else r(i["labels"].flatten()))
              for i in INPUTS]
    golden = dict(
        generator="tests/reference/make_kd_goldens.py",
        trl=trl.__version__, torch=torch.__version__, dtype="float64",
        inputs=inputs, loss_cases=full, topk_teachers=list(TEACHERS.values()), topk_cases=topk)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")
    checked = sum(1 for c in topk if c.get("checked_against_trl_method"))
    print(f"wrote {OUT}: {len(full)} loss cases, {len(topk)} top-K cases ({checked} checked "
          f"against TRL's method), {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
