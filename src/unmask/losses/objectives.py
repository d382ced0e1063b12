"""Training objectives as objects: corrupt the data, call the model, score its output.

The trainer and held-out evaluation talk to one ``Objective``:

* ``corrupt(x_1, t, generator) -> target`` draws the model's input from the data;
* ``predict(model, target, labels) -> logits`` calls the model (the part that runs
  under autocast);
* ``loss(logits, target) -> LossOutput`` scores it (in float32);
* ``nll_bound(model, x_1, labels, generator) -> (B,)`` nats per token: the negative
  ELBO (masked diffusion, MDM-Prime) or the exact negative log-likelihood
  (autoregressive), one number per sequence, for held-out likelihoods.

Four objectives:

* ``MaskedObjective``: the paper's masked cross-entropy on tokens (Eq. 3, 10);
* ``MultiStreamObjective``: the same on several named streams (§3.4, Eq. 4), each with
  its own vocabulary and time, the streams' terms combined equally or by token count;
* ``SubTokenObjective``: MDM-Prime's cross-entropy on sub-tokens (``SubTokenCrossEntropy``);
* ``AutoregressiveObjective``: next-token cross-entropy of a causal model fed
  [BOS, x_1, …, x_{L−1}] (BOS = the [MASK] id), the likelihood reference.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor

from .._checks import check_nonnegative
from ..interpolants import (
    MaskingInterpolant,
    MultiPathSample,
    MultiStreamInterpolant,
    PathSample,
    check_stream_values,
    sample_times,
)
from ..prime import SubTokenInterpolant, SubTokenPathSample
from .cross_entropy import LossOutput, MaskedCrossEntropy
from .prime import SubTokenCrossEntropy

__all__ = [
    "MaskedObjective",
    "SubTokenObjective",
    "AutoregressiveObjective",
    "MultiStreamObjective",
    "Objective",
    "slice_batch",
    "STREAM_WEIGHTINGS",
]

T = TypeVar("T")
PathT = TypeVar("PathT", PathSample, SubTokenPathSample)

#: How a multi-stream loss combines its streams (see ``MultiStreamObjective``).
STREAM_WEIGHTINGS = ("equal", "tokens")


def _slice(value: Any, rows: slice) -> Any:
    if isinstance(value, Tensor):
        return value if value.ndim == 0 else value[rows]  # a 0-d tensor is a whole-batch quantity
    if isinstance(value, dict):
        return {k: _slice(v, rows) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return slice_batch(value, rows)
    return value


def slice_batch(target: T, rows: slice) -> T:
    """The same corrupted batch restricted to ``rows``.

    Every tensor field is batch-first, except 0-d tensors (whole-batch normalisers), which
    are kept; dict fields and nested dataclasses (the per-stream ``PathSample`` of a
    ``MultiPathSample``) are sliced the same way.
    """
    changes = {
        f.name: _slice(getattr(target, f.name), rows)
        for f in dataclasses.fields(target)  # type: ignore[arg-type]
        if isinstance(getattr(target, f.name), (Tensor, dict)) or dataclasses.is_dataclass(getattr(target, f.name))
    }
    return dataclasses.replace(target, **changes)  # type: ignore[type-var]


def _stratified_times(batch: int, generator: torch.Generator | None, device: torch.device) -> Tensor:
    """t in (0, 1), one per stratum of [0, 1] (shuffled): a low-variance ELBO estimate."""
    return sample_times(batch, eps=1e-4, stratified=True, generator=generator, device=device)


class _SinglePathObjective(ABC, Generic[PathT]):
    """What the single-path objectives (``MaskedObjective``, ``SubTokenObjective``) share: the
    input is drawn by ``interpolant.sample``, the model is fed its ``model_input`` (and its t for
    an ETM), and its logits are scored by ``loss_fn`` with the interpolant's schedule; the negative
    ELBO of ``nll_bound`` is ``elbo_loss`` on ``elbo_path``. A subclass is a dataclass with the
    fields ``interpolant`` and ``loss_fn`` and says what the model is fed and which loss is its ELBO."""

    interpolant: Any
    loss_fn: Any

    def corrupt(self, x_1: Tensor, t: Tensor, generator: torch.Generator | None) -> PathT:
        """The interpolant's sample at times ``t`` (B,)."""
        path: PathT = self.interpolant.sample(x_1, t, generator)
        return path

    @abstractmethod
    def model_input(self, target: PathT) -> Tensor:
        """What the model is fed of a corrupted batch."""
        raise NotImplementedError

    def predict(self, model: Any, target: PathT, labels: Tensor | None) -> Tensor:
        """The model's logits on ``model_input(target)`` (told ``target.t`` if it takes time)."""
        logits: Tensor = model(self.model_input(target), target.t if model.uses_time else None, labels)
        return logits

    def loss(self, logits: Tensor, target: PathT) -> LossOutput:
        """``loss_fn`` on the logits, with the interpolant's schedule for the weight."""
        out: LossOutput = self.loss_fn(logits, target, self.interpolant.schedule)
        return out

    def count(self, target: PathT) -> Tensor:
        """The loss's normaliser for a (global) batch, see ``LossOutput.count``."""
        norm: Tensor = self.loss_fn.count(target)
        return norm

    def elbo_path(self, x_1: Tensor, t: Tensor, generator: torch.Generator | None) -> PathT:
        """The sample the ELBO of ``nll_bound`` is taken on: by default the training one (``corrupt``)."""
        return self.corrupt(x_1, t, generator)

    @abstractmethod
    def elbo_loss(self) -> Any:
        """The loss whose per-token terms (w = κ̇/(1 − κ), summed) make the negative ELBO."""
        raise NotImplementedError

    @torch.no_grad()
    def nll_bound(self, model: Any, x_1: Tensor, labels: Tensor | None, generator: torch.Generator | None) -> Tensor:
        """(B,) negative ELBO in nats per token: ``elbo_loss`` on ``elbo_path`` at stratified t, the
        selected terms of each sequence summed and divided by its tokens."""
        t = _stratified_times(x_1.shape[0], generator, x_1.device)
        path = self.elbo_path(x_1, t, generator)
        elbo: LossOutput = self.elbo_loss()(self.predict(model, path, labels), path, self.interpolant.schedule)
        return (elbo.per_token * elbo.selected * elbo.weight[:, None]).sum(1) / x_1[0].numel()


@dataclass
class MaskedObjective(_SinglePathObjective[PathSample]):
    """Masked diffusion on tokens: x_t from the interpolant, ``loss_fn`` on the logits."""

    interpolant: MaskingInterpolant
    loss_fn: MaskedCrossEntropy

    def elbo_path(self, x_1: Tensor, t: Tensor, generator: torch.Generator | None) -> PathSample:
        """Always the plain masking path (Eq. 1), whatever smoothing or coupling the training path
        uses: the bound is that of the model as a masked diffusion model."""
        plain = MaskingInterpolant(self.interpolant.schedule, self.interpolant.vocab_size)
        return plain.sample(x_1, t, generator)

    def elbo_loss(self) -> MaskedCrossEntropy:
        """Masked CE with w = κ̇/(1 − κ), summed."""
        return MaskedCrossEntropy("elbo", True, "sum")

    def model_input(self, target: PathSample) -> Tensor:
        """The tokens x_t."""
        return target.x_t


@dataclass
class SubTokenObjective(_SinglePathObjective[SubTokenPathSample]):
    """MDM-Prime: every sub-token masked independently, the carry-over joint scored per sub-token."""

    interpolant: SubTokenInterpolant
    loss_fn: SubTokenCrossEntropy

    def elbo_loss(self) -> SubTokenCrossEntropy:
        """The sub-token process's negative ELBO (see ``SubTokenCrossEntropy``)."""
        return SubTokenCrossEntropy(self.loss_fn.codec, "elbo", "sum")

    def model_input(self, target: SubTokenPathSample) -> Tensor:
        """The sub-tokens y_t."""
        return target.y_t


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
        weight = torch.ones(x_1.shape[0], device=x_1.device)
        with torch.no_grad():
            correct = (logits.argmax(-1) == x_1).sum()
        return LossOutput.reduced(per_token, selected, weight, per_token.sum(), self.count(target), correct)

    @torch.no_grad()
    def nll_bound(self, model: Any, x_1: Tensor, labels: Tensor | None, generator: torch.Generator | None) -> Tensor:
        """(B,) exact negative log-likelihood in nats per token."""
        target = self.corrupt(x_1, x_1.new_zeros(x_1.shape[0]).float(), generator)
        return self.loss(self.predict(model, target, labels), target).per_token.mean(1)


@dataclass
class MultiStreamObjective:
    """Masked cross-entropy on several named streams (§3.4, Eq. 4).

    Every stream is scored by ``loss_fn`` (masked positions only, its own schedule and
    times, w(t) per stream); ``stream_weighting`` combines them:

    * ``"equal"`` (default): Σ_s (stream s's masked mean), each stream normalised by its
      own masked count over the whole batch. Each stream weighs the same whatever its
      length — with ``"tokens"`` a 1-token label stream would count 1/1,024 next to a
      1,024-token image.
    * ``"tokens"``: Eq. 4 literally, one masked mean over the concatenation of all streams.

    ``stream_weights`` {stream: λ ≥ 0} (default 1 each) scales a stream's term before they are
    combined — the usual multi-task knob, to spend more of a shared trunk on one direction
    (e.g. {"mask": 4} for segmentation). The logged per-stream losses stay unweighted.

    ``LossOutput.streams`` holds each stream's own output (logged per stream by the trainer).
    """

    interpolant: MultiStreamInterpolant
    loss_fn: MaskedCrossEntropy
    stream_weighting: str = "equal"
    stream_weights: dict[str, float] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self.stream_weights = check_stream_values(
            self.stream_weights, self.interpolant.names, "loss weight", check_nonnegative
        )
        if self.stream_weighting not in STREAM_WEIGHTINGS:
            raise ValueError(
                f"unknown stream weighting {self.stream_weighting!r}; choose one of {', '.join(STREAM_WEIGHTINGS)}"
            )
        if not self.loss_fn.masked or self.loss_fn.reduction != "masked_mean":
            raise ValueError(
                "a multi-stream objective takes the masked mean of masked positions per stream; got "
                f"masked={self.loss_fn.masked}, reduction={self.loss_fn.reduction!r}"
            )

    def corrupt(self, x_1: dict[str, Tensor], t: Tensor, generator: torch.Generator | None) -> MultiPathSample:
        """Mask every stream; ``t`` (B,) is the first stream's time (see ``MultiStreamInterpolant.draw_times``)."""
        return self.interpolant.sample(x_1, self.interpolant.draw_times(t, generator), generator)

    def predict(self, model: Any, target: MultiPathSample, labels: Tensor | None) -> dict[str, Tensor]:
        return model(target.x_t, target.t if model.uses_time else None, labels)

    def count(self, target: MultiPathSample) -> Tensor:
        """The loss's normaliser for a (global) batch: 1 for ``"equal"`` (each stream's term is
        already divided by its own count), the masked positions of all streams for ``"tokens"``."""
        if self.stream_weighting == "equal":
            return torch.ones((), device=next(iter(target.norms.values())).device)
        return torch.stack([target.norms[k] for k in target.paths]).sum()

    def loss(self, logits: dict[str, Tensor], target: MultiPathSample) -> LossOutput:
        if set(logits) != set(target.paths):
            raise ValueError(f"logits for streams {sorted(logits)} do not match the streams {sorted(target.paths)}")
        outs: dict[str, LossOutput] = {}
        terms = []
        for name, path in target.paths.items():
            out = self.loss_fn(logits[name], path, self.interpolant.paths[name].schedule)
            stream_total = out.total
            assert stream_total is not None
            # the stream's own masked mean over the whole batch: its total / its global count
            out = dataclasses.replace(out, count=target.norms[name], loss=stream_total / target.norms[name])
            outs[name] = out
            term = stream_total / target.norms[name] if self.stream_weighting == "equal" else stream_total
            terms.append(term * self.stream_weights.get(name, 1.0))  # × 1.0 is exact: default losses unchanged
        total = torch.stack(terms).sum()
        count = self.count(target)
        correct = torch.stack([o.correct for o in outs.values() if o.correct is not None]).sum()
        selected = torch.cat([o.selected for o in outs.values()], dim=1)
        b = selected.shape[0]
        weight = torch.cat([o.weight[:, None].expand(b, o.selected.shape[1]) for o in outs.values()], dim=1)
        per_token = torch.cat([o.per_token for o in outs.values()], dim=1)
        return LossOutput.reduced(per_token, selected, weight, total, count, correct, streams=outs)

    @torch.no_grad()
    def nll_bound(
        self, model: Any, x_1: dict[str, Tensor], labels: Tensor | None, generator: torch.Generator | None
    ) -> Tensor:
        """(B,) negative ELBO of the joint in nats per token (over all streams' tokens).

        One shared clock t (stratified) for every stream, each masked by its own schedule
        with w = κ̇_s/(1 − κ_s): a token-dependent schedule, so this bounds the NLL of the
        model sampled jointly with one clock (the sampler's "joint" mode). Always the
        plain path, whatever clean / null / fixed times the training draw uses.
        """
        first = next(iter(x_1.values()))
        t = _stratified_times(first.shape[0], generator, first.device)
        plain = MultiStreamInterpolant(self.interpolant.streams, timesteps="shared")
        path = plain.sample(x_1, plain.draw_times(t, generator), generator)
        logits = model(path.x_t, path.t if model.uses_time else None, labels)
        total = torch.zeros(first.shape[0], device=first.device)
        tokens = 0
        for name, p in path.paths.items():
            elbo = MaskedCrossEntropy("elbo", True, "sum")(logits[name], p, plain.paths[name].schedule)
            total = total + (elbo.per_token * elbo.selected * elbo.weight[:, None]).sum(1)
            tokens += elbo.per_token.shape[1]
        return total / tokens


class Objective(Protocol):
    """What the trainer and held-out evaluation ask of a training objective.

    ``MaskedObjective``, ``SubTokenObjective``, ``AutoregressiveObjective`` and
    ``MultiStreamObjective`` implement it, each with its own data (a token tensor or a dict
    of streams), target (the draw ``corrupt`` returns) and logits (a tensor or a dict of
    them); the caller only passes each method's result on to the next.
    """

    def corrupt(self, x_1: Any, t: Tensor, generator: torch.Generator | None) -> Any:
        """The training target of data ``x_1`` at times ``t`` (B,)."""
        ...

    def predict(self, model: Any, target: Any, labels: Tensor | None) -> Any:
        """The model's logits for ``target``."""
        ...

    def loss(self, logits: Any, target: Any) -> LossOutput:
        """The loss terms of ``logits`` against ``target``."""
        ...

    def count(self, target: Any) -> Tensor:
        """The normaliser (0-d) of the whole batch ``target`` was drawn for."""
        ...

    def nll_bound(self, model: Any, x_1: Any, labels: Tensor | None, generator: torch.Generator | None) -> Tensor:
        """(B,) an upper bound on the negative log-likelihood, nats per token."""
        ...
