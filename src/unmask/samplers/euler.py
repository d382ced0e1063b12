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

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from .._checks import check_int_at_least
from ..schedules import Schedule, get_schedule
from .base import OutputT, SampleOutput, Sampler, SampleStart, reveal_rounds, reveal_steps
from .categorical import check_sampling_options, draw_categorical, filter_logits
from .guidance import check_cfg, guided_logits

__all__ = [
    "EulerSampler",
    "StepSampler",
    "SampleOutput",
    "step_hazards",
    "time_grid",
    "remask_probabilities",
    "UPDATES",
]

UPDATES = ("exact", "euler")


def time_grid(schedule: Schedule, steps: int, adaptive: bool = False) -> Tensor:
    """The sampling times t_0 = 0 < … < t_n = 1, float64.

    Fixed: t_i = i / S (n = S). Adaptive: t_{i+1} = t_i + min(h, (1 − κ_{t_i}) / κ̇_{t_i})
    with h = 1 / S, which keeps Algorithm 1's jump probability h κ̇ / (1 − κ) ≤ 1, so
    n ≥ S; steps are never shorter than h / 1000.
    """
    check_int_at_least(steps, 1, "steps")
    if not adaptive:
        return torch.arange(steps + 1, dtype=torch.float64) / steps
    h = 1.0 / steps
    times = [0.0]
    t = 0.0
    while t < 1.0:
        v = schedule(torch.tensor(t, dtype=torch.float64))
        k, kd = float(v.kappa), float(v.kappa_dot)
        step = h
        if kd > 0 and math.isfinite(kd):
            step = min(h, (1 - k) / kd)
        step = max(step, h * 1e-3)
        t = min(1.0, t + step)
        if 1.0 - t < 1e-12:
            t = 1.0
        times.append(t)
        if len(times) > 1000 * steps + 1:  # pragma: no cover - guarded by the h/1000 floor
            raise RuntimeError(f"adaptive grid for {schedule!r} did not reach t = 1")
    return torch.tensor(times, dtype=torch.float64)


def step_hazards(schedule: Schedule, steps: int, update: str = "exact", *, adaptive: bool = False) -> Tensor:
    """q_i, the probability that a still-masked position is revealed at step i, shape (n,), float64.

    n is the number of intervals of ``time_grid(schedule, steps, adaptive)`` (n = S when
    not adaptive). The last entry is 1: sampling ends with no [MASK] left.
    """
    if update not in UPDATES:
        raise ValueError(f"unknown Euler update {update!r}; choose one of {', '.join(UPDATES)}")
    grid = time_grid(schedule, steps, adaptive)
    kappa = schedule.kappa(grid)
    remaining = 1 - kappa[:-1]
    if update == "exact":
        gain = kappa[1:] - kappa[:-1]
    else:
        gain = schedule.kappa_dot(grid[:-1]) * (grid[1:] - grid[:-1])
    with torch.no_grad():
        q = torch.where(remaining > 0, gain / remaining.clamp_min(1e-300), torch.ones_like(gain))
    q = q.nan_to_num(nan=1.0, posinf=1.0).clamp(0.0, 1.0)
    q[-1] = 1.0
    return q


def remask_probabilities(schedule: Schedule, grid: Tensor, eta: float) -> tuple[Tensor, Tensor]:
    """The corrector's per-step (σ_i, q_i), each (n,), float64.

    A token revealed during sampling is re-masked with σ_i = min(η, 1, (1 − κ_{i+1}) / κ_i)
    and a masked one revealed with q_i = (κ_{i+1} − (1 − σ_i) κ_i) / (1 − κ_i): the
    fraction masked stays 1 − κ_t at every grid point (ReMDM's max-capped schedule,
    Wang et al. 2025). η = 0 gives the exact update; σ is 0 at the last step.
    """
    kappa = schedule.kappa(grid)
    k0, k1 = kappa[:-1], kappa[1:]
    cap = torch.where(k0 > 0, (1 - k1) / k0.clamp_min(1e-300), torch.zeros_like(k0))
    sigma = torch.clamp(cap, max=min(eta, 1.0)).clamp_min(0.0)
    q = torch.where(k0 < 1, (k1 - (1 - sigma) * k0) / (1 - k0).clamp_min(1e-300), torch.ones_like(k0))
    q = q.nan_to_num(nan=1.0).clamp(0.0, 1.0)
    sigma[-1] = 0.0
    q[-1] = 1.0
    return sigma, q


@dataclass
class StepSampler(Sampler[OutputT]):
    """The options and checks of the samplers that draw every entry's reveal step up front on
    the grid of ``time_grid`` with the hazards of ``step_hazards`` (Euler, Prime); each adds
    its loop and any options of its own (after these, so positional order is kept).

    Args:
        steps: S ≥ 1.
        schedule: sampling schedule κ (name or object), usually the training one.
        update: ``"exact"`` or ``"euler"`` (Algorithm 1 literally).
        temperature: T > 0; logits are divided by T.
        top_p: nucleus mass in (0, 1]; 1 disables.
        top_k: keep the k most likely tokens; 0 disables.
        cfg: guidance scale w ≥ 0 (1 = conditional, 0 = unconditional).
        final_argmax: fill entries still masked at the last step by arg-max.
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
        check_int_at_least(self.steps, 1, "steps")
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
        """Temperature, top-k, top-p on guided logits."""
        return filter_logits(logits, temperature=self.temperature, top_k=self.top_k, top_p=self.top_p)


@dataclass
class EulerSampler(StepSampler[SampleOutput]):
    """Algorithm 1 with fixed step size. See the module docstring; ``sample()`` is ``Sampler.sample``.

    Args (after the ``StepSampler`` options steps … skip_idle):
        adaptive: shorten steps to h = min(1/S, (1 − κ_t) / κ̇_t) (see ``time_grid``);
            the number of steps n then exceeds S wherever κ̇ / (1 − κ) > S.
        corrector: η ≥ 0, re-mask revealed tokens with probability min(η, (1 − κ_s)/κ_t)
            per step so they can be re-drawn (see ``remask_probabilities``); 0 = off.
            Needs ``update="exact"``; sampling then walks the steps one by one.
    """

    adaptive: bool = False
    corrector: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        eta = float(self.corrector)
        if not (eta >= 0 and math.isfinite(eta)):
            raise ValueError(f"corrector strength must be a finite number >= 0, got {self.corrector}")
        if eta > 0 and self.update != "exact":
            raise ValueError(f"the corrector needs update='exact', got update={self.update!r}")

    def _sample(self, start: SampleStart) -> SampleOutput:
        """Algorithm 1 from ``x`` (B, *grid); the front (``Sampler.sample``) checked the inputs."""
        if self.corrector > 0:
            return self._sample_with_corrector(start)
        model, x, labels, generator, device = start.model, start.x, start.labels, start.generator, start.device
        mask_id = model.vocab_size - 1
        b = x.shape[0]
        x_init = x.clone()

        # Everything random is drawn up front, two float64 uniforms per position: one
        # picks the step at which the position leaves [MASK] (inverse CDF over steps),
        # the other its token (inverse CDF over the model's distribution at that step).
        # The result therefore does not depend on the order positions are processed in.
        q = step_hazards(self._schedule, self.steps, self.update, adaptive=self.adaptive).to(device)
        s = len(q)
        # an ETM is told the time at the start of its step, t_i of the grid (non-uniform when adaptive)
        times = time_grid(self._schedule, self.steps, self.adaptive).to(device)
        reveal = reveal_steps(q, x != mask_id, generator)
        u_token = torch.rand(x.shape, dtype=torch.float64, generator=generator, device=device).reshape(b, -1)
        flat_x = x.view(b, -1)

        def reveal_tokens(rows: Tensor, step_of_row: Tensor, events: Tensor, logits: Tensor) -> None:
            """Draw the tokens of the positions ``events`` (B, L) from the round's logits (R, *grid, C)."""
            sel = events[rows]  # (R, L)
            if not bool(sel.any()):
                return
            chosen = logits.reshape(len(rows), -1, logits.shape[-1])[sel]  # (J, C)
            new = draw_categorical(self._process(chosen), uniforms=u_token[rows][sel])
            if self.final_argmax:
                last = (step_of_row[:, None].expand_as(sel) == s - 1)[sel]
                new = torch.where(last, chosen.argmax(-1), new)
            flat_x[events] = new.to(x.dtype)

        nfe, nfe_per_sample = reveal_rounds(
            model, x, labels, self.cfg, times, reveal.reshape(b, -1), self.skip_idle, reveal_tokens
        )
        return SampleOutput(
            tokens=x,
            nfe=nfe,
            nfe_per_sample=nfe_per_sample,
            steps=s,
            reveal_step=reveal,
            x_init=x_init,
            mask_id=mask_id,
        )

    def _sample_with_corrector(self, start: SampleStart) -> SampleOutput:
        """Step-by-step sampling with re-masking (``corrector`` > 0).

        Per step, tokens revealed during sampling are re-masked with σ_i and masked
        ones revealed with q_i (``remask_probabilities``); positions given in x_init
        are never touched. Both decisions are drawn before the network is called, and
        only samples with a position to reveal are evaluated.
        """
        model, x, labels, generator, device = start.model, start.x, start.labels, start.generator, start.device
        mask_id = model.vocab_size - 1
        b = x.shape[0]
        x_init = x.clone()
        grid = time_grid(self._schedule, self.steps, self.adaptive)
        sigma, q = (v.to(device) for v in remask_probabilities(self._schedule, grid, float(self.corrector)))
        s = len(q)
        flat = x.view(b, -1)
        given = flat != mask_id
        reveal = torch.full_like(flat, -1)
        nfe = 0
        nfe_per_sample = torch.zeros(b, dtype=torch.long, device=device)
        for i in range(s):
            masked = flat == mask_id
            u = torch.rand(flat.shape, dtype=torch.float64, generator=generator, device=device)
            events = masked & (u < q[i])
            remask = ~masked & ~given & (u < sigma[i])
            rows = events.any(1).nonzero().squeeze(1) if self.skip_idle else torch.arange(b, device=device)
            if len(rows):
                t = torch.full((len(rows),), float(grid[i]), device=device) if model.uses_time else None
                lab = None if labels is None else labels[rows]
                logits = guided_logits(model, x[rows], t, lab, self.cfg)
                nfe += 1
                nfe_per_sample[rows] += 1
                sel = events[rows]
                chosen = logits.reshape(len(rows), flat.shape[1], -1)[sel]  # (J, C)
                if i == s - 1 and self.final_argmax:
                    new = chosen.argmax(-1)
                else:
                    new = draw_categorical(self._process(chosen), generator)
                flat[events] = new.to(flat.dtype)
                reveal[events] = i
            flat[remask] = mask_id
            reveal[remask] = -1
        return SampleOutput(
            tokens=x,
            nfe=nfe,
            nfe_per_sample=nfe_per_sample,
            steps=s,
            reveal_step=reveal.view(x.shape),
            x_init=x_init,
            mask_id=mask_id,
            remasking=True,
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
        hazards = step_hazards(self._schedule, self.steps, self.update, adaptive=self.adaptive)
        if not 0 <= step < len(hazards):
            raise ValueError(f"step must be in [0, {len(hazards)}), got {step}")
        k = logits.shape[-1] + 1
        q = hazards[step].item()
        p = torch.softmax(self._process(logits), dim=-1)
        moved = torch.cat([q * p, torch.full_like(p[..., :1], 1 - q)], dim=-1)
        stay = torch.nn.functional.one_hot(x_t, k).to(torch.float64)
        return torch.where((x_t == k - 1)[..., None], moved, stay)
