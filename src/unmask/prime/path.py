"""The sub-token masking process of MDM-Prime.

Tokens x_1 (B, …) are encoded to sub-tokens y_1 (B, …, ℓ) and every sub-token is
masked independently: revealed (y_t = y_1) with probability κ_t, [MASK] (the id b)
otherwise — Eq. 1 applied to the B·L·ℓ sub-token positions. A token is therefore
*unmasked* (all ℓ digits revealed), *masked* (none) or in one of the intermediate,
partly observed states in between. With ℓ = 1 this is exactly the token process.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..interpolants import MaskingInterpolant
from ..schedules import Schedule, get_schedule
from .codec import SubTokenCodec

__all__ = ["SubTokenPathSample", "SubTokenInterpolant"]


@dataclass
class SubTokenPathSample:
    """One draw of the sub-token process.

    Attributes:
        y_t: sub-tokens at time t, (B, …, ℓ), ids in [0, b] (b = [MASK]).
        y_1: the data's sub-tokens, (B, …, ℓ), ids in [0, b).
        x_1: the data tokens, (B, …), ids in [0, V).
        t: times (B,) in [0, 1].
        mask: True where y_t is [MASK], (B, …, ℓ).
    """

    y_t: Tensor
    y_1: Tensor
    x_1: Tensor
    t: Tensor
    mask: Tensor


class SubTokenInterpolant:
    """Samples y_t for data tokens under a schedule, each sub-token masked independently.

    Args:
        schedule: a ``Schedule`` or registry name.
        codec: the sub-token code (V data tokens, ℓ sub-tokens of base b).
    """

    def __init__(self, schedule: Schedule | str, codec: SubTokenCodec) -> None:
        self.codec = codec
        self.schedule = get_schedule(schedule)
        self._digits = MaskingInterpolant(self.schedule, codec.subtoken_vocab)

    @property
    def vocab_size(self) -> int:
        """Full-token ids including the token-level [MASK] (V + 1), as models count them."""
        return self.codec.vocab + 1

    def sample(self, x_1: Tensor, t: Tensor, generator: torch.Generator | None = None) -> SubTokenPathSample:
        """Draw y_t for tokens ``x_1`` (B, …) in [0, V) at times ``t`` (B,) in [0, 1]."""
        y_1 = self.codec.encode(x_1)
        p = self._digits.sample(y_1, t, generator)
        return SubTokenPathSample(y_t=p.x_t, y_1=y_1, x_1=x_1, t=t, mask=p.mask)

    def encode_partial(self, x: Tensor) -> Tensor:
        """Tokens (B, …) with the token [MASK] id V → sub-tokens (B, …, ℓ): a masked token
        becomes ℓ masked sub-tokens, a given one its digits."""
        v = self.codec.vocab
        masked = x == v
        y = self.codec.encode(torch.where(masked, torch.zeros_like(x), x))
        return y.masked_fill(masked[..., None], self.codec.mask_id)

    def config(self) -> dict[str, object]:
        return {"schedule": self.schedule.config(), "codec": self.codec.config()}
