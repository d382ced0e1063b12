"""The MDM-Prime objective: masked cross-entropy on sub-tokens under the carry-over joint.

    L(θ) = E_{x_1, t, y_t} [ w(t) Σ_{(l, j) : y_t^{l,j} = [MASK]} −log p_θ(y_1^{l,j} | y_t) ]

where p_θ(y^{l,j} | y_t) is the marginal of digit j of the joint over tokens at
position l, after carry-over (``unmask.prime.carry_over``). With w = κ̇/(1 − κ) and
``reduction="sum"`` this is the continuous-time negative ELBO of the sub-token
process in nats per *token* (so it compares with plain MDM's, which it equals at
ℓ = 1), for the reverse process that reveals one sub-token at a time from these
marginals. Samplers that draw several sub-tokens of a token jointly from the joint
(as ``PrimeSampler`` does) are a different reverse process: for them, with a joint
sub-token parameterisation, the value is a training loss and not a guaranteed upper
bound on the negative log-likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..prime import SubTokenCodec, SubTokenPathSample, carry_over_log_marginals
from ..schedules import Schedule
from .cross_entropy import LossOutput, Reduction, Weighting, check_loss_choices, loss_weight

__all__ = ["SubTokenCrossEntropy"]


@dataclass(frozen=True)
class SubTokenCrossEntropy:
    """Call with token logits, a ``SubTokenPathSample`` and the schedule.

    Args:
        codec: the sub-token code the path used.
        weighting: ``"constant"`` (w = 1) or ``"elbo"`` (w = κ̇ / (1 − κ)).
        reduction: ``"masked_mean"`` (mean over the masked sub-tokens of the batch) or
            ``"sum"`` ((1 / B L) Σ over masked sub-tokens: nats per token).
    """

    codec: SubTokenCodec
    weighting: Weighting = "constant"
    reduction: Reduction = "masked_mean"

    def __post_init__(self) -> None:
        check_loss_choices(self.weighting, self.reduction)

    def count(self, path: SubTokenPathSample) -> Tensor:
        """The reduction's normaliser (0-d float32): masked sub-tokens (at least 1) for
        ``masked_mean``, B·L tokens for ``sum``."""
        if self.reduction == "sum":
            return torch.tensor(float(path.x_1.numel()), device=path.x_1.device)
        return path.mask.sum().clamp_min(1).float()

    def __call__(self, logits: Tensor, path: SubTokenPathSample, schedule: Schedule) -> LossOutput:
        """Compute the loss.

        Args:
            logits: (B, …, V) scores over the full tokens at every position of ``path.x_1``.
            path: the sub-token process sample the model saw.
            schedule: the training schedule (for the ELBO weight).

        Returns:
            ``LossOutput`` whose ``per_token`` / ``selected`` are per *sub-token*,
            shape (B, L·ℓ); ``accuracy`` is the fraction of masked sub-tokens whose
            marginal arg-max is the data digit.
        """
        if logits.shape[:-1] != path.x_1.shape:
            raise ValueError(f"logits shape {tuple(logits.shape)} does not match tokens {tuple(path.x_1.shape)} + (V,)")
        b = path.x_1.shape[0]
        marg = carry_over_log_marginals(logits, path.y_t, self.codec)  # (B, …, ℓ, b)
        marg = marg.reshape(b, -1, self.codec.base)  # (B, L·ℓ, b)
        picked = marg.gather(-1, path.y_1.reshape(b, -1, 1)).squeeze(-1)  # (B, L·ℓ)
        target = path.y_1.reshape(b, -1)  # (B, L·ℓ)
        selected = path.mask.reshape(b, -1)
        # revealed digits have probability 1 under carry-over; keep them out explicitly
        per_token = torch.where(selected, -picked, torch.zeros_like(picked))
        weight = loss_weight(schedule, path.t, self.weighting).to(per_token.device)
        weighted = per_token * weight[:, None]
        total = weighted.sum()
        count = self.count(path)
        with torch.no_grad():
            correct = ((marg.argmax(-1) == target) & selected).sum()
        return LossOutput.reduced(per_token, selected, weight, total, count, correct)
