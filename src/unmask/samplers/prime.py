"""The MDM-Prime sampler: Euler steps over sub-tokens with the carry-over joint.

Every one of the L·ℓ sub-tokens follows the masking schedule on its own: on the grid
t_i = i / S a still-masked sub-token is revealed at step i with the probability
q_i of ``step_hazards`` (the exact update by default), so the step at which each
sub-token is revealed, and one float64 uniform per sub-token, are drawn up front as
in ``EulerSampler``. At a step where some sub-tokens of a position are revealed, a
full token v is drawn from the model's joint over tokens after carry-over (tokens
that contradict the digits already revealed get no mass) and after CFG, temperature,
top-k and top-p; the revealed sub-tokens take v's digits. The other digits of v are
not committed: they stay masked and are drawn again, given more context, when their
own time comes. Any token a sample ends with is consistent with every digit it
revealed, so it is a valid token (< V). At the last step every sub-token still masked
is revealed (by the arg-max of the carry-over logits with ``final_argmax``).

*Idle steps.* A step is idle for a sample when none of its sub-tokens is revealed.
With L·ℓ entries instead of L, far fewer steps are idle (the paper's Figure 1); the
expected count is Σ_i (1 − (κ_{i+1} − κ_i))^{L·ℓ} for the exact update (Proposition A.1
with L·ℓ in place of L). With ``skip_idle`` (the default) the network is evaluated
only at a sample's non-idle steps, batched across samples as in ``EulerSampler``;
``skip_idle=False`` evaluates the whole batch at every step (NFE = S) and returns the
same tokens for the same generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..prime import SubTokenCodec, carry_over
from ..schedules import Schedule, get_schedule
from .base import RevealTrace, SampleStart, count_idle_steps, reveal_rounds, reveal_steps
from .categorical import draw_categorical
from .euler import StepSampler, step_hazards, time_grid
from .guidance import TokenModel

__all__ = ["PrimeSampler", "PrimeSampleOutput", "model_codec", "expected_idle_steps"]


def model_codec(model: TokenModel) -> SubTokenCodec:
    """The sub-token code of an MDM-Prime model (``model.subtokens`` = ℓ ≥ 1)."""
    ell = int(getattr(model, "subtokens", 0) or 0)
    if ell < 1:
        raise ValueError("this model takes plain tokens (subtokens=0); use the euler or maskgit sampler")
    return SubTokenCodec(model.vocab_size - 1, ell)


@dataclass
class PrimeSampleOutput(RevealTrace):
    """What ``PrimeSampler`` returns.

    Attributes:
        tokens: (B, *grid) final tokens in [0, V).
        subtokens: (B, *grid, ℓ) their digits.
        nfe: network forward calls made (a CFG call over the doubled batch counts once).
        nfe_per_sample: (B,) evaluations each sample took part in.
        steps: S.
        reveal_step: (B, *grid, ℓ) step at which each sub-token was revealed, −1 if given.
        y_init: (B, *grid, ℓ) the starting sub-tokens (b = [MASK]).
        codec: the sub-token code.

    ``state(i)`` is the sub-tokens after ``i`` steps, (B, *grid, ℓ) (i = 0: ``y_init``;
    i = steps: final), ``chain()`` all of them, (S + 1, B, *grid, ℓ); ``idle_steps`` counts the
    steps at which a sample revealed no sub-token.
    """

    tokens: Tensor
    subtokens: Tensor
    nfe: int
    nfe_per_sample: Tensor
    steps: int
    reveal_step: Tensor
    y_init: Tensor
    codec: SubTokenCodec

    @property
    def token_idle_steps(self) -> Tensor:
        """(B,) steps at which no token of a sample became fully revealed."""
        return count_idle_steps(self.reveal_step.max(-1).values, self.steps)

    def _trace_ends(self) -> tuple[Tensor, Tensor]:
        """(``y_init``, ``subtokens``)."""
        return self.y_init, self.subtokens


@dataclass
class PrimeSampler(StepSampler[PrimeSampleOutput]):
    """Sub-token Euler sampling for MDM-Prime models. See the module docstring.

    ``sample(model, n, labels=, x_init=, …)`` is ``Sampler.sample``: ``x_init`` holds *tokens*
    (the token [MASK] id V where to generate); the model takes sub-tokens and must have
    ``subtokens`` = ℓ ≥ 1.

    Its options are the ``StepSampler``'s: steps, schedule, update, temperature, top_p, top_k, cfg,
    final_argmax (fill sub-tokens still masked at the last step by the arg-max token), skip_idle.
    """

    def check_model(self, model: TokenModel) -> None:
        """Only MDM-Prime models (``subtokens`` = ℓ ≥ 1)."""
        model_codec(model)

    def _sample(self, start: SampleStart) -> PrimeSampleOutput:
        """Sub-token Euler steps from the *tokens* ``start.x`` (B, *grid), the token [MASK] id V
        where to generate; given tokens are held fixed (all their digits revealed). The model takes
        sub-tokens y (B, *grid, ℓ) and returns logits (B, *grid, V)."""
        model, x, labels, generator, device = start.model, start.x, start.labels, start.generator, start.device
        codec = model_codec(model)
        masked_tok = x == codec.vocab
        y = codec.encode(torch.where(masked_tok, torch.zeros_like(x), x))
        y = y.masked_fill(masked_tok[..., None], codec.mask_id)  # (B, *grid, ℓ)
        y_init = y.clone()
        b, ell = x.shape[0], codec.length

        q = step_hazards(self._schedule, self.steps, self.update).to(device)
        s = len(q)
        times = time_grid(self._schedule, self.steps).to(device)  # an ETM is told t_i, the start of its step
        reveal = reveal_steps(q, y != codec.mask_id, generator)  # (B, *grid, ℓ)
        u_token = torch.rand(reveal.shape, dtype=torch.float64, generator=generator, device=device)
        flat_y = y.view(b, -1, ell)  # (B, L, ℓ)
        flat_u = u_token.reshape(b, -1, ell)
        digits = codec.digits.to(device)

        def reveal_digits(rows: Tensor, step_of_row: Tensor, events: Tensor, logits: Tensor) -> None:
            """Reveal the sub-tokens ``events`` (B, L·ℓ) from the round's logits (R, *grid, V)."""
            ev = events[rows].view(len(rows), -1, ell)  # (R, L, ℓ)
            pos = ev.any(-1)  # (R, L) positions with a sub-token to reveal
            if not bool(pos.any()):
                return
            cur = flat_y[rows][pos]  # (J, ℓ)
            chosen = carry_over(logits.reshape(len(rows), -1, codec.vocab)[pos], cur, codec)  # (J, V)
            ev_j = ev[pos]  # (J, ℓ)
            first = ev_j.to(torch.int8).argmax(-1, keepdim=True)  # the lowest digit revealed now
            u = flat_u[rows][pos].gather(-1, first).squeeze(-1)
            new = draw_categorical(self._process(chosen), uniforms=u)
            if self.final_argmax:
                last = (step_of_row[:, None].expand_as(pos) == s - 1)[pos]
                new = torch.where(last, chosen.argmax(-1), new)
            new_digits = digits[new]  # (J, ℓ)
            updated = torch.where(ev_j, new_digits, cur)
            sub = flat_y[rows]
            sub[pos] = updated
            flat_y[rows] = sub

        nfe, nfe_per_sample = reveal_rounds(
            model, y, labels, self.cfg, times, reveal.reshape(b, -1), self.skip_idle, reveal_digits
        )
        tokens = codec.decode(y)
        return PrimeSampleOutput(
            tokens=tokens,
            subtokens=y,
            nfe=nfe,
            nfe_per_sample=nfe_per_sample,
            steps=s,
            reveal_step=reveal,
            y_init=y_init,
            codec=codec,
        )


def expected_idle_steps(schedule: Schedule | str, steps: int, entries: int, update: str = "exact") -> float:
    """Proposition A.1: the expected number of idle steps of S-step sampling over ``entries``
    independently masked entries (L tokens for MDM, L·ℓ sub-tokens for MDM-Prime).

    A step i is idle when no entry is revealed in it; an entry still masked at the
    start is revealed at step i with probability P_i = Π_{k<i}(1 − q_k) · q_i
    (= κ_{i+1} − κ_i for the exact update), independently of the others, so
    E[idle] = Σ_i (1 − P_i)^entries.
    """
    q = step_hazards(get_schedule(schedule), steps, update)
    survive = torch.cumprod(torch.cat([torch.ones(1, dtype=q.dtype), 1 - q[:-1]]), 0)
    p = survive * q
    return float(((1 - p) ** entries).sum())
