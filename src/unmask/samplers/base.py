"""What every sampler shares: the ``Sampler`` base (the front of ``sample()``), the output
dataclass, input validation, and the up-front reveal steps of the Euler and Prime samplers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import torch
from torch import Tensor

from .._checks import check_tokens
from .guidance import TokenModel, guided_logits

__all__ = [
    "Sampler",
    "SampleStart",
    "RevealTrace",
    "SampleOutput",
    "prepare_inputs",
    "check_cfg_labels",
    "model_device",
    "count_idle_steps",
    "event_rounds",
    "reveal_steps",
    "reveal_rounds",
]

OutputT = TypeVar("OutputT")


def model_device(model: object) -> torch.device:
    """The device of a model's first parameter (CPU for parameterless callables)."""
    params = getattr(model, "parameters", None)
    first = next(iter(params()), None) if callable(params) else None
    return first.device if first is not None else torch.device("cpu")


class RevealTrace(ABC):
    """The trace of a sampler's output whose entries (tokens, or sub-tokens for MDM-Prime) leave
    [MASK] once each, at ``reveal_step``: the idle steps and the intermediate states are rebuilt
    from it after sampling, not stored during it.

    A subclass is a dataclass with the fields ``steps`` and ``reveal_step`` and says in
    ``_trace_ends`` which tensors the states run between.
    """

    steps: int
    reveal_step: Tensor

    @abstractmethod
    def _trace_ends(self) -> tuple[Tensor, Tensor]:
        """(start, final): the entries before step 0 and after the last step, both shaped like
        ``reveal_step``; raise ``ValueError`` where the intermediate states cannot be rebuilt."""

    @property
    def idle_steps(self) -> Tensor:
        """(B,) steps at which a sample revealed no entry (the paper's "idle" steps)."""
        return count_idle_steps(self.reveal_step, self.steps)

    def state(self, i: int) -> Tensor:
        """The entries after ``i`` steps (i = 0: the start; i = steps: the final ones), shaped like
        ``reveal_step``."""
        start, final = self._trace_ends()
        if not 0 <= i <= self.steps:
            raise ValueError(f"step index must be in [0, {self.steps}], got {i}")
        shown = (self.reveal_step >= 0) & (self.reveal_step < i)
        return torch.where(shown, final, start)

    def chain(self) -> Tensor:
        """All states, (S + 1, *reveal_step.shape): reconstructed, not stored during sampling."""
        return torch.stack([self.state(i) for i in range(self.steps + 1)])


@dataclass
class SampleOutput(RevealTrace):
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

    ``state(i)`` is x after ``i`` steps (i = 0 is ``x_init``, i = steps is ``tokens``),
    ``chain()`` all of them, (S + 1, B, *grid); ``idle_steps`` counts the steps at which a
    sample changed no token.
    """

    tokens: Tensor
    nfe: int
    nfe_per_sample: Tensor
    steps: int
    reveal_step: Tensor
    x_init: Tensor
    mask_id: int
    remasking: bool = False

    def _trace_ends(self) -> tuple[Tensor, Tensor]:
        """(``x_init``, ``tokens``); refused when a corrector re-masked tokens."""
        if self.remasking:
            raise ValueError("intermediate states are not recorded when a corrector re-masks tokens")
        return self.x_init, self.tokens


@dataclass(frozen=True)
class SampleStart:
    """What the front of ``Sampler.sample`` hands the subclass's ``_sample`` loop, checked once.

    Attributes:
        model: the token model to draw from (``check_model`` accepted it).
        x: (B, *grid) starting tokens, [MASK] where to draw; the loop may change it in place.
        labels: (B,) class ids or None.
        generator: the source of all randomness.
        device: where to sample.
    """

    model: TokenModel
    x: Tensor
    labels: Tensor | None
    generator: torch.Generator | None
    device: torch.device | str


class Sampler(ABC, Generic[OutputT]):
    """A sampler of token models: ``sample()`` checks and prepares the inputs once, here, and
    hands the starting tokens to the subclass's ``_sample`` loop.

    The front, in order: ``check_model`` (a subclass refuses a model it cannot draw from),
    the device (the model's, unless given), ``prepare_inputs`` (n / grid / ``x_init`` / labels
    validated, the all-[MASK] start built), and ``check_cfg_labels`` (a CFG scale other than 1
    needs labels). Subclasses are dataclasses whose fields are their options; every one has
    ``cfg``. ``OutputT`` is what ``sample`` returns (``SampleOutput``, ``PrimeSampleOutput``).
    """

    cfg: float

    def check_model(self, model: TokenModel) -> None:  # noqa: B027 - optional hook, default: any model
        """Raise ``ValueError`` when this sampler cannot draw from ``model`` (called first)."""

    @torch.no_grad()
    def sample(
        self,
        model: TokenModel,
        n: int | None = None,
        *,
        grid: tuple[int, ...] | None = None,
        labels: Tensor | None = None,
        x_init: Tensor | None = None,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> OutputT:
        """Draw samples.

        Args:
            model: ``model(x, t, labels) -> logits (B, *grid, K − 1)`` with attributes
                ``vocab_size``, ``uses_time``, ``num_classes``, ``null_label``.
            n: number of samples B (or give ``labels`` / ``x_init``).
            grid: token grid; defaults to ``model.config.grid``.
            labels: (B,) class ids in [0, num_classes] (num_classes is the null label),
                or None for unconditional samples.
            x_init: (B, *grid) starting tokens, [MASK] where to generate (inpainting,
                conditional coupling, prompts); defaults to all [MASK]. Given tokens are kept.
            generator: the source of all randomness.
            device: where to sample; defaults to the model's device.

        Returns:
            the sampler's output dataclass, with tokens (B, *grid) free of [MASK].
        """
        self.check_model(model)
        if device is None:
            device = model_device(model)
        x, labels = prepare_inputs(model, n, grid, labels, x_init, device)
        check_cfg_labels(self.cfg, labels)
        return self._sample(SampleStart(model, x, labels, generator, device))

    @abstractmethod
    def _sample(self, start: SampleStart) -> OutputT:
        """The sampler's loop from the checked ``start`` (tokens ``start.x`` (B, *grid), [MASK]
        where to draw, and labels (B,) or None); ``start.x`` may be changed in place."""


def check_cfg_labels(cfg: float, labels: Tensor | None) -> None:
    """CFG mixes conditional and unconditional logits: a scale other than 1 needs labels."""
    if labels is None and cfg != 1.0:
        raise ValueError(f"cfg scale {cfg} needs class labels; got labels=None")


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


def reveal_rounds(
    model: TokenModel,
    state: Tensor,
    labels: Tensor | None,
    cfg: float,
    times: Tensor,
    flat_reveal: Tensor,
    skip_idle: bool,
    reveal: Callable[[Tensor, Tensor, Tensor, Tensor], None],
) -> tuple[int, Tensor]:
    """Walk reveal steps drawn up front (``reveal_steps``): the Euler and Prime samplers' loop.

    Each round is one guided network call over some samples, each at its own step:
    with ``skip_idle`` the rounds of ``event_rounds`` (a sample's k-th step with an event),
    else every step for the whole batch. An explicit-timestep model is told
    ``times[step]``, the time at the start of the step. ``reveal(rows, step_of_row, events,
    logits)`` then writes the entries ``events`` (B, N) revealed in the round into ``state``.

    Args:
        state: (B, …) the tokens (or sub-tokens) the model reads, updated by ``reveal``.
        times: (S + 1,) the time grid; flat_reveal: (B, N) reveal step per entry, −1 if given.

    Returns:
        (network calls, (B,) evaluations per sample); a CFG call over the doubled batch counts once.
    """
    b = flat_reveal.shape[0]
    steps = len(times) - 1
    nfe = 0
    nfe_per_sample = torch.zeros(b, dtype=torch.long, device=flat_reveal.device)

    def call(rows: Tensor, step_of_row: Tensor, events: Tensor) -> None:
        nonlocal nfe
        t = times[step_of_row].to(torch.float32) if model.uses_time else None
        lab = None if labels is None else labels[rows]
        logits = guided_logits(model, state[rows], t, lab, cfg)  # (R, *grid, C)
        nfe += 1
        nfe_per_sample[rows] += 1
        reveal(rows, step_of_row, events, logits)

    if skip_idle:
        for rows, step_of_row, events in event_rounds(flat_reveal, steps):
            call(rows, step_of_row, events)
    else:
        every = torch.arange(b, device=flat_reveal.device)
        for i in range(steps):
            call(every, torch.full((b,), i, device=flat_reveal.device), flat_reveal == i)
    return nfe, nfe_per_sample
