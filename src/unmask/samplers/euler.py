"""The Euler sampler of the paper's Algorithm 1, for explicit- and implicit-timestep models.

On the uniform grid t_i = i / S, i = 0 … S − 1 (step size h = 1/S), a masked position
stays masked over a step with probability 1 − q_i and otherwise takes a token drawn
from the model's p_{1|t}(· | x_{t_i}) (after CFG, temperature, top-k, top-p):

    Cat[δ_{x_t} + u_t h],   u_t = κ̇_t / (1 − κ_t) (p_{1|t} − δ_{x_t})        (Algorithm 1)

so a masked position moves with probability q_i = h κ̇_{t_i} / (1 − κ_{t_i})
(``update="euler"``, clipped to 1). ``update="exact"`` (the default) uses the exact
probability of leaving [MASK] over the step, q_i = (κ_{t_{i+1}} − κ_{t_i}) / (1 − κ_{t_i}):
it equals Algorithm 1 for the linear schedule, keeps every marginal mask rate equal to
1 − κ_t at the grid points for any schedule, and stays finite where κ̇ is not (root at
t = 0). Unmasked tokens are never re-drawn. At the last step every position still
masked is filled, by the arg-max of the guided logits (``final_argmax=True``, the
paper's last-step argmax) or by a draw.

Skipping idle steps. Whether a position moves at step i does not depend on the
network's output (q_i depends only on the schedule), so the step at which each
position leaves [MASK] is drawn up front, as is the uniform that picks its token (two
float64 uniforms per position). A sample's logits are then needed only at the steps
where one of its positions moves; at any other step they would not be used. This
holds for explicit- and implicit-timestep models alike; for an ITM it is the "reuse the
previous logits when no token changed" rule. Since samples do not interact, the k-th
such step of every sample is evaluated in one batched call (each sample with its own
t), so sampling costs at most min(S, L) calls and min(S, L) evaluations per sample:
1,000 steps over 64 tokens cost at most 64. ``skip_idle=False`` evaluates the whole
batch at every step (NFE = S) and returns identical tokens for the same generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from .._checks import check_int_at_least, check_tokens
from ..schedules import Schedule, get_schedule
from .categorical import check_sampling_options, draw_categorical, filter_logits
from .guidance import TokenModel, check_cfg, guided_logits

__all__ = ["EulerSampler", "SampleOutput", "step_hazards", "UPDATES"]

UPDATES = ("exact", "euler")


def step_hazards(schedule: Schedule, steps: int, update: str = "exact") -> Tensor:
    """q_i, the probability that a still-masked position is revealed at step i, shape (S,), float64.

    The last entry is 1: sampling ends with no [MASK] left.
    """
    if update not in UPDATES:
        raise ValueError(f"unknown Euler update {update!r}; choose one of {', '.join(UPDATES)}")
    check_int_at_least(steps, 1, "steps")
    grid = torch.arange(steps + 1, dtype=torch.float64) / steps
    kappa = schedule.kappa(grid)
    remaining = 1 - kappa[:-1]
    if update == "exact":
        gain = kappa[1:] - kappa[:-1]
    else:
        gain = schedule.kappa_dot(grid[:-1]) / steps
    with torch.no_grad():
        q = torch.where(remaining > 0, gain / remaining.clamp_min(1e-300), torch.ones_like(gain))
    q = q.nan_to_num(nan=1.0, posinf=1.0).clamp(0.0, 1.0)
    q[-1] = 1.0
    return q


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
    """

    tokens: Tensor
    nfe: int
    nfe_per_sample: Tensor
    steps: int
    reveal_step: Tensor
    x_init: Tensor
    mask_id: int

    @property
    def idle_steps(self) -> Tensor:
        """(B,) steps at which a sample changed no token (the paper's "idle" steps)."""
        b = self.reveal_step.shape[0]
        flat = self.reveal_step.reshape(b, -1)
        active = torch.zeros(b, self.steps + 1, dtype=torch.bool, device=flat.device)
        active.scatter_(1, flat + 1, True)  # column 0 collects the −1 (given) entries
        return self.steps - active[:, 1:].sum(1)

    def state(self, i: int) -> Tensor:
        """x after ``i`` steps (i = 0 is ``x_init``, i = steps is ``tokens``), (B, *grid)."""
        if not 0 <= i <= self.steps:
            raise ValueError(f"step index must be in [0, {self.steps}], got {i}")
        shown = (self.reveal_step >= 0) & (self.reveal_step < i)
        return torch.where(shown, self.tokens, self.x_init)

    def chain(self) -> Tensor:
        """All states, (S + 1, B, *grid): reconstructed, not stored during sampling."""
        return torch.stack([self.state(i) for i in range(self.steps + 1)])


@dataclass
class EulerSampler:
    """Algorithm 1 with fixed step size. See the module docstring.

    Args:
        steps: S ≥ 1.
        schedule: sampling schedule κ (name or object), usually the training one.
        update: ``"exact"`` or ``"euler"`` (Algorithm 1 literally).
        temperature: T > 0; logits are divided by T.
        top_p: nucleus mass in (0, 1]; 1 disables.
        top_k: keep the k most likely tokens; 0 disables.
        cfg: guidance scale w ≥ 0 (1 = conditional, 0 = unconditional).
        final_argmax: fill positions still masked at the last step by arg-max.
        skip_idle: evaluate the network only where it changes the outcome.
    """

    steps: int = 100
    schedule: Schedule | str = "linear"
    update: Literal["exact", "euler"] = "exact"
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    cfg: float = 1.0
    final_argmax: bool = True
    skip_idle: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"steps must be an integer >= 1, got {self.steps!r}")
        self.schedule = get_schedule(self.schedule)
        if self.update not in UPDATES:
            raise ValueError(f"unknown Euler update {self.update!r}; choose one of {', '.join(UPDATES)}")
        check_sampling_options(self.temperature, self.top_p, self.top_k)
        self.cfg = check_cfg(self.cfg)

    @property
    def _schedule(self) -> Schedule:
        assert isinstance(self.schedule, Schedule)  # converted in __post_init__
        return self.schedule

    def _process(self, logits: Tensor) -> Tensor:
        return filter_logits(logits, temperature=self.temperature, top_k=self.top_k, top_p=self.top_p)

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
    ) -> SampleOutput:
        """Draw samples.

        Args:
            model: ``model(x, t, labels) -> logits (B, *grid, K − 1)`` with attributes
                ``vocab_size``, ``uses_time``, ``num_classes``, ``null_label``.
            n: number of samples B (or give ``labels`` / ``x_init``).
            grid: token grid; defaults to ``model.config.grid``.
            labels: (B,) class ids in [0, num_classes] (num_classes is the null label),
                or None for unconditional samples.
            x_init: (B, *grid) starting tokens, [MASK] where to generate (inpainting,
                conditional coupling); defaults to all [MASK].
            generator: the source of all randomness.
            device: where to sample; defaults to the model's device.

        Returns:
            ``SampleOutput`` with tokens (B, *grid) free of [MASK].
        """
        k = model.vocab_size
        mask_id = k - 1
        if device is None:
            param = next(iter(model.parameters()), None) if hasattr(model, "parameters") else None
            device = param.device if param is not None else "cpu"
        x, labels = _prepare(model, n, grid, labels, x_init, device)
        if labels is None and self.cfg != 1.0:
            raise ValueError(f"cfg scale {self.cfg} needs class labels; got labels=None")
        b = x.shape[0]
        s = self.steps
        x_init = x.clone()

        # Everything random is drawn up front, two float64 uniforms per position: one
        # picks the step at which the position leaves [MASK] (inverse CDF over steps),
        # the other its token (inverse CDF over the model's distribution at that step).
        # The result therefore does not depend on the order positions are processed in.
        q = step_hazards(self._schedule, s, self.update).to(device)
        cdf = 1 - torch.cumprod(1 - q, 0)
        cdf[-1] = 1.0
        u_step = torch.rand(x.shape, dtype=torch.float64, generator=generator, device=device)
        u_token = torch.rand(x.shape, dtype=torch.float64, generator=generator, device=device).reshape(b, -1)
        reveal = torch.searchsorted(cdf, u_step.reshape(-1), right=True).clamp_max(s - 1).reshape(x.shape)
        reveal = torch.where(x == mask_id, reveal, torch.full_like(reveal, -1))
        flat_reveal = reveal.reshape(b, -1)  # (B, L)
        flat_x = x.view(b, -1)
        nfe = 0
        nfe_per_sample = torch.zeros(b, dtype=torch.long, device=device)

        def update(rows: Tensor, step_of_row: Tensor, events: Tensor) -> None:
            """One batched network call for ``rows``, each at its own step; reveal ``events`` (B, L)."""
            nonlocal nfe
            t = (step_of_row.to(torch.float32) / s) if model.uses_time else None
            lab = None if labels is None else labels[rows]
            logits = guided_logits(model, x[rows], t, lab, self.cfg)  # (R, *grid, C)
            nfe += 1
            nfe_per_sample[rows] += 1
            sel = events[rows]  # (R, L)
            if not bool(sel.any()):
                return
            chosen = logits.reshape(len(rows), -1, logits.shape[-1])[sel]  # (J, C)
            new = draw_categorical(self._process(chosen), uniforms=u_token[rows][sel])
            if self.final_argmax:
                last = (step_of_row[:, None].expand_as(sel) == s - 1)[sel]
                new = torch.where(last, chosen.argmax(-1), new)
            flat_x[events] = new.to(x.dtype)

        if self.skip_idle:
            # Samples never interact, so instead of walking the steps we process each
            # sample's k-th event step in round k: one call per round over every sample
            # that still has events (each at its own t), at most min(S, L) calls in all.
            srt = flat_reveal.sort(dim=1).values
            first = torch.ones_like(srt, dtype=torch.bool)
            first[:, 1:] = srt[:, 1:] != srt[:, :-1]
            first &= srt >= 0
            count = first.sum(1)  # distinct event steps per sample
            k_max = int(count.max()) if b else 0
            distinct = torch.full((b, max(k_max, 1)), s, dtype=srt.dtype, device=device)
            rank = first.cumsum(1) - 1
            distinct[first.nonzero(as_tuple=True)[0], rank[first]] = srt[first]
            round_of = torch.searchsorted(distinct, flat_reveal.clamp_min(0))  # (B, L)
            for k in range(k_max):
                rows = (count > k).nonzero().squeeze(1)
                events = (round_of == k) & (flat_reveal >= 0)
                events[count <= k] = False
                update(rows, distinct[rows, k], events)
        else:
            every = torch.arange(b, device=device)
            for i in range(s):
                update(every, torch.full((b,), i, device=device), flat_reveal == i)
        return SampleOutput(
            tokens=x,
            nfe=nfe,
            nfe_per_sample=nfe_per_sample,
            steps=s,
            reveal_step=reveal,
            x_init=x_init,
            mask_id=mask_id,
        )

    def transition(self, logits: Tensor, x_t: Tensor, step: int) -> Tensor:
        """The one-step transition of Algorithm 1 as probabilities over all K ids.

        Args:
            logits: (..., K − 1) guided model logits for the positions of ``x_t``.
            x_t: (...) current tokens.
            step: the step index i in [0, S).

        Returns:
            (..., K) float64 rows that sum to one: a masked position keeps [MASK] with
            1 − q_i and moves to token j with q_i p(j); an unmasked one stays put.
            (The last step's arg-max fill is not represented here.)
        """
        if not 0 <= step < self.steps:
            raise ValueError(f"step must be in [0, {self.steps}), got {step}")
        k = logits.shape[-1] + 1
        q = step_hazards(self._schedule, self.steps, self.update)[step].item()
        p = torch.softmax(self._process(logits), dim=-1)
        moved = torch.cat([q * p, torch.full_like(p[..., :1], 1 - q)], dim=-1)
        stay = torch.nn.functional.one_hot(x_t, k).to(torch.float64)
        return torch.where((x_t == k - 1)[..., None], moved, stay)


def _prepare(
    model: TokenModel,
    n: int | None,
    grid: tuple[int, ...] | None,
    labels: Tensor | None,
    x_init: Tensor | None,
    device: torch.device | str,
) -> tuple[Tensor, Tensor | None]:
    """Validate and build the starting tokens and labels shared by all samplers."""
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
