"""What every sampler shares: the output dataclass and input validation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from .._checks import check_tokens
from .guidance import TokenModel

__all__ = ["SampleOutput", "prepare_inputs", "model_device", "count_idle_steps", "event_rounds", "reveal_steps"]


def model_device(model: object) -> torch.device:
    """The device of a model's first parameter (CPU for parameterless callables)."""
    params = getattr(model, "parameters", None)
    first = next(iter(params()), None) if callable(params) else None
    return first.device if first is not None else torch.device("cpu")


@dataclass
class SampleOutput:
    """What a sampler returns.

    Attributes:
        tokens: final tokens (B, *grid), no [MASK] left.
        nfe: network forward calls made (a CFG call over the doubled batch counts once).
        nfe_per_sample: (B,) evaluations each sample took part in.
        steps: S, the number of sampler steps.
        reveal_step: (B, *grid) step at which each position was revealed, −1 for
            positions given in ``x_init``.
        x_init: (B, *grid) the starting tokens.
        mask_id: the [MASK] id.
        remasking: True when a corrector re-masked tokens; then ``reveal_step`` is the
            last reveal of each position and intermediate states cannot be rebuilt.
    """

    tokens: Tensor
    nfe: int
    nfe_per_sample: Tensor
    steps: int
    reveal_step: Tensor
    x_init: Tensor
    mask_id: int
    remasking: bool = False

    @property
    def idle_steps(self) -> Tensor:
        """(B,) steps at which a sample changed no token (the paper's "idle" steps)."""
        return count_idle_steps(self.reveal_step, self.steps)

    def state(self, i: int) -> Tensor:
        """x after ``i`` steps (i = 0 is ``x_init``, i = steps is ``tokens``), (B, *grid)."""
        if self.remasking:
            raise ValueError("intermediate states are not recorded when a corrector re-masks tokens")
        if not 0 <= i <= self.steps:
            raise ValueError(f"step index must be in [0, {self.steps}], got {i}")
        shown = (self.reveal_step >= 0) & (self.reveal_step < i)
        return torch.where(shown, self.tokens, self.x_init)

    def chain(self) -> Tensor:
        """All states, (S + 1, B, *grid): reconstructed, not stored during sampling."""
        return torch.stack([self.state(i) for i in range(self.steps + 1)])


def prepare_inputs(
    model: TokenModel,
    n: int | None,
    grid: tuple[int, ...] | None,
    labels: Tensor | None,
    x_init: Tensor | None,
    device: torch.device | str,
) -> tuple[Tensor, Tensor | None]:
    """Validate and build the starting tokens (B, *grid) and labels (B,) or None, for every sampler."""
    k = model.vocab_size
    if x_init is not None:
        check_tokens(x_init, k, allow_mask=True, name="x_init")
        x = x_init.to(device=device, dtype=torch.long).clone()
        if n is not None and n != x.shape[0]:
            raise ValueError(f"n={n} does not match x_init batch {x.shape[0]}")
    else:
        if grid is None:
            grid = tuple(model.config.grid)  # type: ignore[attr-defined]
        if n is None:
            if labels is None:
                raise ValueError("give the number of samples n, labels, or x_init")
            n = int(torch.as_tensor(labels).reshape(-1).shape[0])
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"number of samples must be an integer >= 1, got {n!r}")
        x = torch.full((n, *grid), k - 1, dtype=torch.long, device=device)
    if labels is not None:
        if model.num_classes == 0:
            raise ValueError("labels given to an unconditional model (num_classes=0)")
        labels = torch.as_tensor(labels, device=device).long().reshape(-1)
        if labels.shape[0] != x.shape[0]:
            raise ValueError(f"{labels.shape[0]} labels for {x.shape[0]} samples")
        bad = (labels < 0) | (labels > model.num_classes)
        if bool(bad.any()):
            raise ValueError(
                f"label {labels[bad][0].item()} outside the classes [0, {model.num_classes - 1}] "
                f"(or {model.num_classes} for the null label)"
            )
    return x, labels


def count_idle_steps(reveal_step: Tensor, steps: int) -> Tensor:
    """(B,) number of steps in [0, steps) at which no entry of a sample was revealed.

    ``reveal_step`` is (B, …) with the step each entry was revealed at, −1 for entries
    given from the start.
    """
    b = reveal_step.shape[0]
    flat = reveal_step.reshape(b, -1)
    active = torch.zeros(b, steps + 1, dtype=torch.bool, device=flat.device)
    active.scatter_(1, flat + 1, True)  # column 0 collects the −1 (given) entries
    return steps - active[:, 1:].sum(1)


def reveal_steps(hazards: Tensor, given: Tensor, generator: torch.Generator | None) -> Tensor:
    """The step at which each entry leaves [MASK], drawn up front, (B, …) int64.

    ``hazards`` (S,) float64 are the per-step reveal probabilities of a still-masked
    entry (the last is 1); ``given`` (B, …) marks entries that are not masked (−1).
    One float64 uniform per entry picks its step by inverse CDF.
    """
    s = len(hazards)
    cdf = 1 - torch.cumprod(1 - hazards, 0)
    cdf[-1] = 1.0
    u = torch.rand(given.shape, dtype=torch.float64, generator=generator, device=given.device)
    reveal = torch.searchsorted(cdf.to(given.device), u.reshape(-1), right=True).clamp_max(s - 1).reshape(given.shape)
    return torch.where(given, torch.full_like(reveal, -1), reveal)


def event_rounds(flat_reveal: Tensor, steps: int) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
    """Group every sample's event steps into rounds of one batched network call each.

    Samples never interact, so instead of walking the steps, round k processes each
    sample's k-th distinct event step (each sample at its own t): at most
    min(S, entries) rounds in all.

    Args:
        flat_reveal: (B, N) reveal step of every entry, −1 for given entries.
        steps: S, the number of steps (reveal steps lie in [0, S)).

    Yields:
        ``(rows, step_of_row, events)``: the samples (R,) with a k-th event step, that
        step for each (R,), and the (B, N) entries revealed in this round.
    """
    b = flat_reveal.shape[0]
    srt = flat_reveal.sort(dim=1).values
    first = torch.ones_like(srt, dtype=torch.bool)
    first[:, 1:] = srt[:, 1:] != srt[:, :-1]
    first &= srt >= 0
    count = first.sum(1)  # distinct event steps per sample
    k_max = int(count.max()) if b else 0
    distinct = torch.full((b, max(k_max, 1)), steps, dtype=srt.dtype, device=flat_reveal.device)
    rank = first.cumsum(1) - 1
    distinct[first.nonzero(as_tuple=True)[0], rank[first]] = srt[first]
    round_of = torch.searchsorted(distinct, flat_reveal.clamp_min(0))  # (B, N)
    for k in range(k_max):
        rows = (count > k).nonzero().squeeze(1)
        events = (round_of == k) & (flat_reveal >= 0)
        events[count <= k] = False
        yield rows, distinct[rows, k], events
