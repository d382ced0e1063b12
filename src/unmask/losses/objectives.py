"""Training objectives as objects: corrupt the data, call the model, score its output.

The trainer and held-out evaluation talk to one ``Objective``:

* ``corrupt(x_1, t, generator) -> target`` draws the model's input from the data;
* ``predict(model, target, labels) -> logits`` calls the model (the part that runs
  under autocast);
* ``loss(logits, target) -> LossOutput`` scores it (in float32);
* ``nll_bound(model, x_1, labels, generator) -> (B,)`` nats per token: the negative
  ELBO (masked diffusion, MDM-Prime) or the exact negative log-likelihood
  (autoregressive), one number per sequence, for held-out likelihoods.

Three objectives:

* ``MaskedObjective``: the paper's masked cross-entropy on tokens (Eq. 3, 10);
* ``SubTokenObjective``: MDM-Prime's cross-entropy on sub-tokens (``SubTokenCrossEntropy``);
* ``AutoregressiveObjective``: next-token cross-entropy of a causal model fed
  [BOS, x_1, …, x_{L−1}] (BOS = the [MASK] id), the likelihood reference.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor

from ..interpolants import MaskingInterpolant, PathSample, sample_times
from ..prime import SubTokenInterpolant, SubTokenPathSample
from .cross_entropy import LossOutput, MaskedCrossEntropy
from .prime import SubTokenCrossEntropy

__all__ = ["MaskedObjective", "SubTokenObjective", "AutoregressiveObjective", "Objective", "slice_batch"]

T = TypeVar("T")


def slice_batch(target: T, rows: slice) -> T:
    """The same corrupted batch restricted to ``rows`` (every tensor field is batch-first)."""
    changes = {
        f.name: getattr(target, f.name)[rows]
        for f in dataclasses.fields(target)  # type: ignore[arg-type]
        if isinstance(getattr(target, f.name), Tensor)
    }
    return dataclasses.replace(target, **changes)  # type: ignore[type-var]


def _stratified_times(batch: int, generator: torch.Generator | None, device: torch.device) -> Tensor:
    """t in (0, 1), one per stratum of [0, 1] (shuffled): a low-variance ELBO estimate."""
    return sample_times(batch, eps=1e-4, stratified=True, generator=generator, device=device)


@dataclass
class MaskedObjective:
    """Masked diffusion on tokens: x_t from the interpolant, ``loss_fn`` on the logits."""

    interpolant: MaskingInterpolant
    loss_fn: MaskedCrossEntropy

    def corrupt(self, x_1: Tensor, t: Tensor, generator: torch.Generator | None) -> PathSample:
        return self.interpolant.sample(x_1, t, generator)

    def predict(self, model: Any, target: PathSample, labels: Tensor | None) -> Tensor:
        return model(target.x_t, target.t if model.uses_time else None, labels)

    def loss(self, logits: Tensor, target: PathSample) -> LossOutput:
        return self.loss_fn(logits, target, self.interpolant.schedule)

    def count(self, target: PathSample) -> Tensor:
        """The loss's normaliser for a (global) batch, see ``LossOutput.count``."""
        return self.loss_fn.count(target)

    @torch.no_grad()
    def nll_bound(self, model: Any, x_1: Tensor, labels: Tensor | None, generator: torch.Generator | None) -> Tensor:
        """(B,) negative ELBO in nats per token (masked CE with w = κ̇/(1 − κ), t stratified).

        Always on the plain masking path (Eq. 1), whatever smoothing or coupling the
        training path uses: the bound is that of the model as a masked diffusion model.
        """
        t = _stratified_times(x_1.shape[0], generator, x_1.device)
        plain = MaskingInterpolant(self.interpolant.schedule, self.interpolant.vocab_size)
        path = plain.sample(x_1, t, generator)
        logits = model(path.x_t, t if model.uses_time else None, labels)
        elbo = MaskedCrossEntropy("elbo", True, "sum")(logits, path, self.interpolant.schedule)
        return (elbo.per_token * elbo.selected * elbo.weight[:, None]).sum(1) / elbo.per_token.shape[1]


@dataclass
class SubTokenObjective:
    """MDM-Prime: every sub-token masked independently, the carry-over joint scored per sub-token."""

    interpolant: SubTokenInterpolant
    loss_fn: SubTokenCrossEntropy

    def corrupt(self, x_1: Tensor, t: Tensor, generator: torch.Generator | None) -> SubTokenPathSample:
        return self.interpolant.sample(x_1, t, generator)

    def predict(self, model: Any, target: SubTokenPathSample, labels: Tensor | None) -> Tensor:
        return model(target.y_t, target.t if model.uses_time else None, labels)

    def loss(self, logits: Tensor, target: SubTokenPathSample) -> LossOutput:
        return self.loss_fn(logits, target, self.interpolant.schedule)

    def count(self, target: SubTokenPathSample) -> Tensor:
        """The loss's normaliser for a (global) batch, see ``LossOutput.count``."""
        return self.loss_fn.count(target)

    @torch.no_grad()
    def nll_bound(self, model: Any, x_1: Tensor, labels: Tensor | None, generator: torch.Generator | None) -> Tensor:
        """(B,) the sub-token process's negative ELBO in nats per token (see ``SubTokenCrossEntropy``)."""
        t = _stratified_times(x_1.shape[0], generator, x_1.device)
        path = self.corrupt(x_1, t, generator)
        logits = self.predict(model, path, labels)
        elbo = SubTokenCrossEntropy(self.loss_fn.codec, "elbo", "sum")(logits, path, self.interpolant.schedule)
        tokens = x_1[0].numel()
        return (elbo.per_token * elbo.weight[:, None]).sum(1) / tokens


@dataclass
class AutoregressiveTarget:
    """The next tokens a causal model must predict: x_1 itself, (B, L)."""

    x_1: Tensor


@dataclass
class AutoregressiveObjective:
    """Next-token cross-entropy of a causal model; ``bos`` is the id fed before the first token."""

    bos: int

    def corrupt(self, x_1: Tensor, t: Tensor, generator: torch.Generator | None) -> AutoregressiveTarget:
        """Nothing is corrupted: the target is the data itself (t and the generator are unused)."""
        if x_1.ndim != 2:
            raise ValueError(f"an autoregressive model takes sequences (B, L), got shape {tuple(x_1.shape)}")
        return AutoregressiveTarget(x_1)

    def predict(self, model: Any, target: AutoregressiveTarget, labels: Tensor | None) -> Tensor:
        x_1 = target.x_1
        inp = torch.cat([torch.full_like(x_1[:, :1], self.bos), x_1[:, :-1]], dim=1)  # [BOS, x_1 … x_{L−1}]
        return model(inp, None, labels)

    def count(self, target: AutoregressiveTarget) -> Tensor:
        """B·L: every position is scored."""
        return torch.tensor(float(target.x_1.numel()), device=target.x_1.device)

    def loss(self, logits: Tensor, target: AutoregressiveTarget) -> LossOutput:
        x_1 = target.x_1
        per_token = F.cross_entropy(logits.float().transpose(1, 2), x_1, reduction="none")  # (B, L)
        selected = torch.ones_like(x_1, dtype=torch.bool)
        total = per_token.sum()
        count = self.count(target)
        with torch.no_grad():
            correct = (logits.argmax(-1) == x_1).sum()
            accuracy = correct / x_1.numel()
        return LossOutput(
            loss=total / count,
            per_token=per_token,
            selected=selected,
            weight=torch.ones(x_1.shape[0], device=x_1.device),
            accuracy=accuracy,
            total=total,
            count=count,
            correct=correct,
        )

    @torch.no_grad()
    def nll_bound(self, model: Any, x_1: Tensor, labels: Tensor | None, generator: torch.Generator | None) -> Tensor:
        """(B,) exact negative log-likelihood in nats per token."""
        target = self.corrupt(x_1, x_1.new_zeros(x_1.shape[0]).float(), generator)
        return self.loss(self.predict(model, target, labels), target).per_token.mean(1)


Objective = MaskedObjective | SubTokenObjective | AutoregressiveObjective
