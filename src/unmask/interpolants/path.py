"""The masking interpolant (paper Eq. 1, 6, 8, 10).

For data tokens x_1 and time t, each position is independently

* revealed, x_t = x_1, with probability κ_t;
* masked, x_t = [MASK], with probability 1 − κ_t.

Two variants from the paper are options of the same object:

* **conditional coupling** (Eq. 6, "C Coupling"): a random subset of positions,
  each with probability ``coupling_ratio``, follows the null schedule κ ≡ 1 and is
  never masked; coupling is a token-dependent schedule κ_t → κ_t^i;
* **clean-prefix coupling** (token clips (B, T, …)): with probability ``prefix_prob`` per
  sample, the first k frames along axis 1, k uniform in {1, …, T − 1}, are held clean —
  coupling with whole leading frames as the condition, which is what continuing a clip from
  its first frames feeds the model at sampling time;
* **smoothing / uniform noise** (Eq. 8, appendix D.1): of the mass κ_t on x_1, a
  part η_t = s·κ_t·(1 − κ_t) moves to the uniform distribution over data tokens,
  so a revealed token is replaced by a uniformly drawn one with probability
  s·(1 − κ_t). The paper writes the scale of this term as √(s κ_t (1 − κ_t)); we use
  the variance-free form s κ_t (1 − κ_t) with s ∈ [0, 1], which keeps every
  probability in [0, 1], vanishes at t = 0 and t = 1, and reduces to Eq. 1 at s = 0.

Tokens are integer tensors of any shape (B, ...) (Eq. 10 factorises over positions);
the vocabulary has ``vocab_size`` entries of which the last is [MASK].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .._checks import check_probability, check_tokens
from ..schedules import Schedule, check_unit_interval, get_schedule

__all__ = ["PathSample", "MaskingInterpolant"]


@dataclass
class PathSample:
    """One draw from the interpolant.

    Attributes:
        x_t: tokens at time t, shape (B, ...), ids in [0, vocab_size − 1].
        x_1: the data tokens, same shape.
        t: times, shape (B,), in [0, 1].
        mask: True where x_t is [MASK], same shape as x_t.
        noised: True where a revealed token was replaced by uniform noise
            (all False when smoothing is 0).
        coupled: True where conditional coupling held the position clean
            (all False when coupling_ratio is 0).
    """

    x_t: Tensor
    x_1: Tensor
    t: Tensor
    mask: Tensor
    noised: Tensor
    coupled: Tensor


class MaskingInterpolant:
    """Samples x_t ~ p_{t|1}(· | x_1) for the masking path of Eq. 1 and its variants.

    Args:
        schedule: a ``Schedule`` or registry name.
        vocab_size: K, the number of token ids including [MASK] (the last id).
        smoothing: s ∈ [0, 1], the uniform-noise scale of Eq. 8 (0 = plain Eq. 1).
        coupling_ratio: probability ∈ [0, 1) that a position is held clean
            (conditional coupling, Eq. 6); 0 disables it.
        prefix_prob: probability ∈ [0, 1] that a sample's first k frames (axis 1 of tokens
            (B, T, …), k uniform in {1, …, T − 1}) are held clean; 0 disables it (and draws
            nothing, so the path is then unchanged draw for draw).
    """

    def __init__(
        self,
        schedule: Schedule | str,
        vocab_size: int,
        *,
        smoothing: float = 0.0,
        coupling_ratio: float = 0.0,
        prefix_prob: float = 0.0,
    ) -> None:
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 2:
            raise ValueError(f"vocab_size must be an integer >= 2 (data tokens + [MASK]), got {vocab_size!r}")
        self.schedule = get_schedule(schedule)
        self.vocab_size = vocab_size
        self.smoothing = check_probability(smoothing, "smoothing")
        self.coupling_ratio = check_probability(coupling_ratio, "coupling_ratio", high_open=True)
        self.prefix_prob = check_probability(prefix_prob, "prefix_prob")

    @property
    def mask_id(self) -> int:
        """The [MASK] token id (the last id of the vocabulary)."""
        return self.vocab_size - 1

    def sample(self, x_1: Tensor, t: Tensor, generator: torch.Generator | None = None) -> PathSample:
        """Draw x_t for data ``x_1`` (B, ...) at times ``t`` (B,) in [0, 1].

        Raises ``ValueError`` for ids outside the data vocabulary (including [MASK])
        and for times outside [0, 1].
        """
        check_tokens(x_1, self.vocab_size, allow_mask=False, name="x_1")
        if t.ndim != 1 or t.shape[0] != x_1.shape[0]:
            raise ValueError(
                f"t must have shape ({x_1.shape[0]},) to match x_1 {tuple(x_1.shape)}, got {tuple(t.shape)}"
            )
        check_unit_interval(t, "t")
        device = x_1.device
        view = (-1,) + (1,) * (x_1.ndim - 1)
        kappa = self.schedule.kappa(t.to(device=device, dtype=torch.float32)).view(view)  # (B, 1, ...)

        u = torch.rand(x_1.shape, generator=generator, device=device)
        revealed = u < kappa
        coupled = torch.zeros_like(revealed)
        if self.coupling_ratio > 0:
            coupled = torch.rand(x_1.shape, generator=generator, device=device) < self.coupling_ratio
            revealed = revealed | coupled
        if self.prefix_prob > 0:
            frames = x_1.shape[1] if x_1.ndim >= 2 else 0
            if frames < 2:
                raise ValueError(
                    f"prefix_prob needs token clips (B, T, ...) with T >= 2 frames, got shape {tuple(x_1.shape)}"
                )
            b = x_1.shape[0]
            chosen = torch.rand(b, generator=generator, device=device) < self.prefix_prob
            k = torch.randint(1, frames, (b,), generator=generator, device=device) * chosen  # (B,), 0 = none
            prefix = torch.arange(frames, device=device)[None] < k[:, None]  # (B, T)
            prefix = prefix.view(b, frames, *([1] * (x_1.ndim - 2))).expand_as(x_1)
            coupled = coupled | prefix
            revealed = revealed | prefix
        x_t = torch.where(revealed, x_1, torch.full_like(x_1, self.mask_id))

        noised = torch.zeros_like(revealed)
        if self.smoothing > 0:
            # A revealed token becomes uniform noise with probability s(1 - κ_t);
            # coupled positions are conditions and are never noised.
            p_noise = self.smoothing * (1 - kappa)
            noised = revealed & ~coupled & (torch.rand(x_1.shape, generator=generator, device=device) < p_noise)
            noise = torch.randint(0, self.vocab_size - 1, x_1.shape, generator=generator, device=device)
            x_t = torch.where(noised, noise, x_t)
        return PathSample(x_t=x_t, x_1=x_1, t=t, mask=~revealed, noised=noised, coupled=coupled)

    def marginal(self, x_1: Tensor, t: Tensor) -> Tensor:
        """The exact distribution p_{t|1}(x | x_1) over all K ids, shape (B, ..., K).

        Without coupling; with coupling each position is a mixture of this and δ_{x_1}.
        Rows sum to one. Useful to check ``sample`` and for likelihood computations.
        """
        check_tokens(x_1, self.vocab_size, allow_mask=False, name="x_1")
        check_unit_interval(t, "t")
        view = (-1,) + (1,) * x_1.ndim
        kappa = self.schedule.kappa(t.to(torch.float64)).view(view)
        eta = self.smoothing * kappa * (1 - kappa)
        k = self.vocab_size
        onehot = torch.nn.functional.one_hot(x_1, k).to(torch.float64)
        uniform = torch.ones(k, dtype=torch.float64, device=x_1.device)
        uniform[-1] = 0
        uniform = uniform / (k - 1)
        mask = torch.zeros(k, dtype=torch.float64, device=x_1.device)
        mask[-1] = 1
        return (1 - kappa) * mask + (kappa - eta) * onehot + eta * uniform

    def config(self) -> dict[str, object]:
        """Enough to rebuild the interpolant."""
        return {
            "schedule": self.schedule.config(),
            "vocab_size": self.vocab_size,
            "smoothing": self.smoothing,
            "coupling_ratio": self.coupling_ratio,
            "prefix_prob": self.prefix_prob,
        }
