"""Masked and weighted cross-entropy (paper Eq. 3 and its multi-token form Eq. 10).

    L(θ) = E_{x_1, t, x_t} [ w(t) Σ_{l : x_t^l = [MASK]} −log p^l_{1|t}(x_1^l | x_t, t; θ) ]

Options:

* ``weighting``: ``"constant"`` (w = 1, the paper's default) or ``"elbo"``
  (w = κ̇_t / (1 − κ_t): with t ~ U[0, 1], masked positions and ``reduction="sum"``
  this is the negative ELBO, an upper bound on −log p(x_1)).
* ``masked``: loss on masked positions only (Eq. 3's δ_[M](x_t)); with ``False`` on
  every position (the paper's "unmasked cross-entropy" ablation, Table S8).
* ``reduction`` — how the per-position terms become one number:

  - ``"masked_mean"`` (default, as MaskGIT): Σ_{b,l} w_b m_bl ce_bl / Σ_{b,l} m_bl, the
    mean over the selected positions of the batch;
  - ``"sum"``: (1 / B) Σ_b w_b Σ_l m_bl ce_bl / L, i.e. Eq. 10 per position, an unbiased
    estimate of the bound in nats per token when ``weighting="elbo"`` and ``masked``.

Logits cover the data tokens only (K − 1 classes): a model never gives [MASK] mass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import torch
import torch.nn.functional as F
from torch import Tensor

from ..interpolants import PathSample
from ..schedules import Schedule

__all__ = [
    "MaskedCrossEntropy",
    "LossOutput",
    "Weighting",
    "Reduction",
    "WEIGHTINGS",
    "REDUCTIONS",
    "check_loss_choices",
    "loss_weight",
]

#: The loss weightings and reductions (the one home of these choices: the losses and the config use them).
Weighting = Literal["constant", "elbo"]
Reduction = Literal["masked_mean", "sum"]
WEIGHTINGS: tuple[str, ...] = get_args(Weighting)
REDUCTIONS: tuple[str, ...] = get_args(Reduction)


def check_loss_choices(weighting: str, reduction: str) -> None:
    """``ValueError`` naming the value unless ``weighting`` is in ``WEIGHTINGS`` and ``reduction`` in ``REDUCTIONS``."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"unknown loss weighting {weighting!r}; choose one of {', '.join(WEIGHTINGS)}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown loss reduction {reduction!r}; choose one of {', '.join(REDUCTIONS)}")


@dataclass
class LossOutput:
    """A loss value and what it was computed from.

    Attributes:
        loss: scalar tensor to differentiate.
        per_token: unreduced, unweighted cross-entropy, shape (B, L) (flattened positions).
        selected: the positions that entered the loss, bool (B, L).
        weight: w(t) per sample, shape (B,).
        accuracy: fraction of selected positions where the argmax equals x_1, a 0-d
            tensor (NaN when nothing is selected); kept on the device so a training
            step need not synchronise to compute it.
        total: the sum of the weighted terms (0-d); ``loss = total / count``.
        count: the normaliser of the reduction (0-d float): selected positions for
            ``masked_mean``, B·L for ``sum``. Data-parallel and accumulated steps divide
            each part's ``total`` by the count of the whole batch instead.
        correct: selected positions predicted right (0-d), for accuracy over parts.
        streams: for multi-stream objectives, each stream's own ``LossOutput`` (its
            ``count`` is that stream's normaliser over the whole batch); None otherwise.
            The multi-stream output's ``per_token``, ``selected`` and ``weight`` are then
            per position over the streams concatenated in order, (B, ΣL_s).
    """

    loss: Tensor
    per_token: Tensor
    selected: Tensor
    weight: Tensor
    accuracy: Tensor
    total: Tensor | None = None
    count: Tensor | None = None
    correct: Tensor | None = None
    streams: dict[str, LossOutput] | None = None

    @classmethod
    def reduced(
        cls,
        per_token: Tensor,
        selected: Tensor,
        weight: Tensor,
        total: Tensor,
        count: Tensor,
        correct: Tensor,
        streams: dict[str, LossOutput] | None = None,
    ) -> LossOutput:
        """The output of a reduction: ``loss = total / count`` and ``accuracy = correct / selected
        positions`` (NaN when nothing is selected, computed without gradient); the other
        attributes as given."""
        with torch.no_grad():
            accuracy = correct / selected.sum()  # 0 / 0 = NaN when nothing is selected
        return cls(
            loss=total / count,
            per_token=per_token,
            selected=selected,
            weight=weight,
            accuracy=accuracy,
            total=total,
            count=count,
            correct=correct,
            streams=streams,
        )


def loss_weight(schedule: Schedule, t: Tensor, weighting: str) -> Tensor:
    """w(t) per sample for ``weighting`` in ``WEIGHTINGS``; t in [0, 1) shape (B,)."""
    if weighting == "constant":
        return torch.ones_like(t, dtype=torch.float32)
    if weighting == "elbo":
        return schedule.rate(t.to(torch.float64)).to(torch.float32)
    raise ValueError(f"unknown loss weighting {weighting!r}; choose one of {', '.join(WEIGHTINGS)}")


@dataclass(frozen=True)
class MaskedCrossEntropy:
    """The training objective; call it with logits, a ``PathSample`` and the schedule.

    Args:
        weighting: ``"constant"`` or ``"elbo"``.
        masked: cross-entropy on masked positions only (True) or on all positions.
        reduction: ``"masked_mean"`` or ``"sum"`` (see the module docstring).
    """

    weighting: Weighting = "constant"
    masked: bool = True
    reduction: Reduction = "masked_mean"

    def __post_init__(self) -> None:
        check_loss_choices(self.weighting, self.reduction)

    def count(self, path: PathSample) -> Tensor:
        """The reduction's normaliser for ``path`` (0-d float32): the number of selected
        positions (at least 1) for ``masked_mean``, B·L for ``sum``."""
        if self.reduction == "sum":
            return torch.tensor(float(path.x_1.numel()), device=path.x_1.device)
        selected = path.mask.sum() if self.masked else torch.tensor(path.x_1.numel(), device=path.x_1.device)
        return selected.clamp_min(1).float()

    def __call__(self, logits: Tensor, path: PathSample, schedule: Schedule) -> LossOutput:
        """Compute the loss.

        Args:
            logits: (B, ..., K − 1) unnormalised scores over data tokens, the
                positions ``...`` matching ``path.x_1``.
            path: the interpolant sample the model saw.
            schedule: the training schedule (for the ELBO weight).
        """
        b = path.x_1.shape[0]
        if logits.shape[:-1] != path.x_1.shape:
            raise ValueError(
                f"logits shape {tuple(logits.shape)} does not match tokens {tuple(path.x_1.shape)} + (classes,)"
            )
        classes = logits.shape[-1]
        target = path.x_1.reshape(b, -1)
        flat = logits.reshape(b, -1, classes).float()
        per_token = F.cross_entropy(flat.transpose(1, 2), target, reduction="none")  # (B, L)
        selected = path.mask.reshape(b, -1) if self.masked else torch.ones_like(target, dtype=torch.bool)
        weight = loss_weight(schedule, path.t, self.weighting).to(per_token.device)  # (B,)
        # t = 1 (a fully revealed stream, e.g. a condition) has w = κ̇/(1 − κ) = ∞ and no masked
        # position; a zero weight keeps ∞ · 0 from turning its (unused) gradient into NaN
        weight = torch.nan_to_num(weight, posinf=0.0)
        weighted = torch.where(selected, per_token * weight[:, None], torch.zeros_like(per_token))
        total = weighted.sum()
        count = self.count(path)
        with torch.no_grad():
            correct = ((flat.argmax(-1) == target) & selected).sum()
        return LossOutput.reduced(per_token, selected, weight, total, count, correct)
