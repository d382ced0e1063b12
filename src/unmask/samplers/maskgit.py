"""MaskGIT-style confidence sampling (paper §3.3 and appendix B; Chang et al. 2022).

At each of S steps, every position still masked gets a token drawn from the model
(after CFG, temperature, top-k, top-p; float64 draws). Its confidence is the
model's probability of the drawn token (guided logits, before temperature and
filtering, as in MaskGIT). The n_i most confident
positions keep their token; the others stay [MASK] and are drawn afresh next step.
Tokens once revealed are never re-drawn.

*Unmask counts.* n_i follows a schedule κ: with L masked positions at the start,
N_i = round(L κ((i + 1) / S)) tokens are revealed after step i (root, linear,
square, cosine, arccos, … — any registered schedule; MaskGIT's "mask ratio" γ(r) is
1 − κ(r)). Every step reveals at least one token while any remain, the counts sum to
L, and the last step reveals all that are left. With S > L the later steps have
nothing to do and are not evaluated.

*Choice noise.* ``gumbel="linear"`` (the default) ranks positions by
log(confidence) + τ_i g with g ~ Gumbel(0, 1) and τ_i = r (1 − i / (S − 1)), annealed
to 0 at the last step (r = ``gumbel_temperature``, 4.5 in the paper's Table S7);
``"warmup"`` ranks positions at random for the first ``warmup_steps`` steps and by
confidence afterwards (Besnier & Chen's "warm_up"); ``"none"`` ranks by confidence.

*Time.* An implicit-timestep model needs none. An explicit-timestep model is given
the t at which its training schedule ``time_schedule`` masks the fraction currently
masked: t = κ_train⁻¹(revealed / L).

*Guidance.* CFG on logits with weight w; ``cfg_schedule="linear"`` ramps it from 1
(plain conditional) at the first step to w at the last.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from .._checks import check_int_at_least
from ..schedules import Schedule, get_schedule
from .base import SampleOutput, Sampler, SampleStart
from .categorical import check_sampling_options, draw_categorical, filter_logits
from .guidance import check_cfg, guided_logits

__all__ = ["MaskGITSampler", "unmask_counts", "check_gumbel_temperature", "GUMBEL_MODES", "CFG_SCHEDULES"]

GUMBEL_MODES = ("linear", "warmup", "none")
CFG_SCHEDULES = ("constant", "linear")


def check_gumbel_temperature(value: float, name: str = "gumbel_temperature") -> float:
    """The initial Gumbel scale r must be a finite number >= 0; returns it as float, errors call it ``name``."""
    r = float(value)
    if not r >= 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    if not math.isfinite(r):
        raise ValueError(f"{name} must be finite, got {value}")
    return r


def unmask_counts(masked: int, steps: int, schedule: Schedule) -> Tensor:
    """How many tokens each step reveals, (S,) int64, for ``masked`` positions to fill.

    Follows round(masked · κ((i + 1) / S)) cumulatively, moved just enough that every
    step reveals at least one token when masked ≥ S; sums to ``masked``.
    """
    check_int_at_least(steps, 1, "steps")
    if masked < 0:
        raise ValueError(f"masked must be >= 0, got {masked}")
    grid = torch.arange(1, steps + 1, dtype=torch.float64) / steps
    revealed = torch.round(masked * schedule.kappa(grid)).long()  # cumulative, after each step
    revealed[-1] = masked
    i = torch.arange(steps)
    if masked >= steps:  # room for >= 1 per step: keep R_i in [i + 1, masked - (S - 1 - i)]
        revealed = torch.minimum(torch.maximum(revealed, i + 1), masked - (steps - 1 - i))
        for j in range(1, steps):  # strictly increasing (the bounds above leave room for it)
            revealed[j] = max(int(revealed[j]), int(revealed[j - 1]) + 1)
    else:
        revealed = torch.cummax(revealed.clamp(0, masked), 0).values
    counts = torch.diff(revealed, prepend=torch.zeros(1, dtype=torch.long))
    return counts


@dataclass
class MaskGITSampler(Sampler[SampleOutput]):
    """Confidence-based sampling. See the module docstring; ``sample()`` is ``Sampler.sample``.

    Args:
        steps: S ≥ 1.
        schedule: unmask-count schedule (name or object): "cosine" (MaskGIT's default),
            "linear", "square", "root", "arccos", …
        temperature: softmax temperature T > 0 of the token draws (logits / T).
        top_p: nucleus mass in (0, 1].
        top_k: keep the k most likely tokens (0 = off).
        cfg: guidance scale w ≥ 0.
        cfg_schedule: "constant" or "linear" (ramp from 1 to w over the steps).
        gumbel: "linear", "warmup" or "none" (see the module docstring).
        gumbel_temperature: r ≥ 0, the initial scale of the Gumbel noise.
        warmup_steps: steps of random choice for ``gumbel="warmup"``.
        time_schedule: the training schedule of an explicit-timestep model (for its t).
    """

    steps: int = 12
    schedule: Schedule | str = "cosine"
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    cfg: float = 1.0
    cfg_schedule: Literal["constant", "linear"] = "constant"
    gumbel: Literal["linear", "warmup", "none"] = "linear"
    gumbel_temperature: float = 4.5
    warmup_steps: int = 2
    time_schedule: Schedule | str = "linear"

    def __post_init__(self) -> None:
        check_int_at_least(self.steps, 1, "steps")
        self.schedule = get_schedule(self.schedule)
        self.time_schedule = get_schedule(self.time_schedule)
        check_sampling_options(self.temperature, self.top_p, self.top_k)
        self.cfg = check_cfg(self.cfg)
        if self.cfg_schedule not in CFG_SCHEDULES:
            raise ValueError(f"unknown cfg_schedule {self.cfg_schedule!r}; choose one of {', '.join(CFG_SCHEDULES)}")
        if self.gumbel not in GUMBEL_MODES:
            raise ValueError(f"unknown gumbel mode {self.gumbel!r}; choose one of {', '.join(GUMBEL_MODES)}")
        check_gumbel_temperature(self.gumbel_temperature)
        check_int_at_least(self.warmup_steps, 0, "warmup_steps")

    def cfg_at(self, i: int) -> float:
        """The guidance weight at step i."""
        if self.cfg_schedule == "constant" or self.steps == 1:
            return self.cfg
        return 1.0 + (self.cfg - 1.0) * i / (self.steps - 1)

    def gumbel_scale(self, i: int) -> float:
        """τ_i for ``gumbel="linear"``."""
        if self.steps == 1:
            return 0.0
        return self.gumbel_temperature * (1 - i / (self.steps - 1))

    def _sample(self, start: SampleStart) -> SampleOutput:
        """Confidence-ranked reveals from ``x`` (B, *grid); the front (``Sampler.sample``) checked the inputs."""
        model, x, labels, generator, device = start.model, start.x, start.labels, start.generator, start.device
        assert isinstance(self.schedule, Schedule) and isinstance(self.time_schedule, Schedule)
        mask_id = model.vocab_size - 1
        b = x.shape[0]
        flat = x.view(b, -1)
        length = flat.shape[1]
        x_start = x.clone()
        masked0 = (flat == mask_id).sum(1)  # (B,)
        counts = torch.zeros(b, self.steps, dtype=torch.long)
        for m in torch.unique(masked0).tolist():
            counts[masked0.cpu() == m] = unmask_counts(int(m), self.steps, self.schedule)
        counts = counts.to(device)
        reveal = torch.full((b, length), -1, dtype=torch.long, device=device)
        nfe = 0
        nfe_per_sample = torch.zeros(b, dtype=torch.long, device=device)

        for i in range(self.steps):
            rows = (counts[:, i] > 0).nonzero().squeeze(1)
            if len(rows) == 0:
                continue
            xr = flat[rows]  # (R, L)
            still = xr == mask_id
            t = None
            if model.uses_time:
                revealed = 1 - still.sum(1).double() / length
                t = self.time_schedule.kappa_inv(revealed.clamp(0, 1)).float()
            lab = None if labels is None else labels[rows]
            logits = guided_logits(model, x[rows], t, lab, self.cfg_at(i))  # (R, *grid, C)
            nfe += 1
            nfe_per_sample[rows] += 1
            logits = logits.reshape(len(rows), length, -1)[still]  # (M, C), masked positions only
            processed = filter_logits(logits, temperature=self.temperature, top_k=self.top_k, top_p=self.top_p)
            drawn = draw_categorical(processed, generator)  # (M,)
            # confidence: the model's (guided, unfiltered) probability of the drawn token, as in MaskGIT
            logp = torch.log_softmax(logits.double(), -1).gather(1, drawn[:, None]).squeeze(1)
            score = torch.full(xr.shape, float("-inf"), dtype=torch.float64, device=device)
            if self.gumbel == "linear":
                u = torch.rand(logp.shape, dtype=torch.float64, generator=generator, device=device)
                gumbel = -torch.log(-torch.log(u.clamp_min(1e-300)))
                score[still] = logp + self.gumbel_scale(i) * gumbel
            elif self.gumbel == "warmup" and i < self.warmup_steps:
                score[still] = torch.rand(logp.shape, dtype=torch.float64, generator=generator, device=device)
            else:
                score[still] = logp
            # reveal the n_i best-scoring masked positions of each row (ties broken by position)
            n_i = counts[rows, i]  # (R,)
            order = torch.argsort(score, dim=1, descending=True, stable=True)
            rank = torch.empty_like(order)
            rank.scatter_(1, order, torch.arange(length, device=device).expand_as(order))
            keep = (rank < n_i[:, None]) & still
            tokens = torch.full(xr.shape, mask_id, dtype=flat.dtype, device=device)
            tokens[still] = drawn.to(flat.dtype)
            xr = torch.where(keep, tokens, xr)
            flat[rows] = xr
            rr = reveal[rows]
            rr[keep] = i
            reveal[rows] = rr
        return SampleOutput(
            tokens=x,
            nfe=nfe,
            nfe_per_sample=nfe_per_sample,
            steps=self.steps,
            reveal_step=reveal.view(x.shape),
            x_init=x_start,
            mask_id=mask_id,
        )
