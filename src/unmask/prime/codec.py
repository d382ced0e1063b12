"""The invertible base-b sub-token code of MDM-Prime (Chao et al. 2025, arXiv 2505.18495).

A token x ∈ {0, …, V − 1} is written as ℓ digits in base b = ⌈V^(1/ℓ)⌉ (the smallest b
with b^ℓ ≥ V), most significant digit first:

    x = Σ_j y^j b^(ℓ − 1 − j),   y^j ∈ {0, …, b − 1}.

The map is invertible on {0, …, V − 1}; the b^ℓ − V codes ≥ V are not tokens and
must never be produced (the carry-over parameterisation gives them no mass). Each
sub-token has its own [MASK], the id b, so a sub-token stream has b + 1 ids.
ℓ = 1 is plain MDM: b = V and the single sub-token is the token.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .._checks import check_int_at_least, check_tokens

__all__ = ["SubTokenCodec", "subtoken_base"]

#: b^ℓ must stay exactly representable in int64 arithmetic.
_MAX_CODES = 2**62


def subtoken_base(vocab: int, length: int) -> int:
    """The smallest integer b ≥ 2 with b^length ≥ vocab (exact integer arithmetic)."""
    check_int_at_least(vocab, 2, "vocab (data tokens)")
    check_int_at_least(length, 1, "subtoken length ℓ")
    b = max(2, int(round(vocab ** (1.0 / length))))
    while b > 2 and (b - 1) ** length >= vocab:
        b -= 1
    while b**length < vocab:
        b += 1
    return b


class SubTokenCodec:
    """Base-b encoding of a V-token vocabulary into ℓ sub-tokens.

    Args:
        vocab: V, the number of data tokens (without [MASK]), ≥ 2.
        length: ℓ ≥ 1 sub-tokens per token. ℓ may not exceed ⌈log2 V⌉: beyond it
            some digit would be 0 for every token and carry no information.

    Attributes:
        base: b = ⌈V^(1/ℓ)⌉.
        mask_id: b, the sub-token [MASK] id.
        digits: (V, ℓ) int64, the code of every token (row v = digits of v).
    """

    def __init__(self, vocab: int, length: int) -> None:
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ValueError(f"subtoken length ℓ must be an integer >= 1, got {length!r}")
        if isinstance(vocab, bool) or not isinstance(vocab, int) or vocab < 2:
            raise ValueError(f"a vocabulary of {vocab!r} tokens is not encodable: need an integer V >= 2")
        max_len = (vocab - 1).bit_length()  # ⌈log2 V⌉
        if length > max_len:
            raise ValueError(
                f"subtoken length ℓ={length} is too long for V={vocab} tokens: at most ⌈log2 V⌉={max_len} "
                "sub-tokens carry information"
            )
        self.vocab = vocab
        self.length = length
        self.base = subtoken_base(vocab, length)
        if self.base**length >= _MAX_CODES:
            raise ValueError(f"a vocabulary of V={vocab} with ℓ={length} is not encodable: b^ℓ overflows int64")
        self.mask_id = self.base
        self._powers = torch.tensor([self.base ** (length - 1 - j) for j in range(length)], dtype=torch.long)
        self.digits = self.encode(torch.arange(vocab))

    @property
    def subtoken_vocab(self) -> int:
        """Ids of one sub-token stream including its [MASK]: b + 1."""
        return self.base + 1

    @property
    def num_codes(self) -> int:
        """b^ℓ, the codes of the sub-token space (V of them are tokens)."""
        return int(self.base**self.length)

    def encode(self, x: Tensor) -> Tensor:
        """Tokens (...) in [0, V) → digits (..., ℓ) in [0, b), most significant first."""
        check_tokens(x, self.vocab + 1, allow_mask=False, name="tokens")
        powers = self._powers.to(x.device)
        return torch.div(x.long()[..., None], powers, rounding_mode="floor") % self.base

    def decode(self, y: Tensor) -> Tensor:
        """Digits (..., ℓ) in [0, b) → tokens (...). Raises for [MASK] digits and codes ≥ V."""
        if y.shape[-1:] != (self.length,):
            raise ValueError(f"sub-tokens must have a last axis of ℓ={self.length}, got shape {tuple(y.shape)}")
        check_tokens(y, self.base + 1, allow_mask=False, name="sub-tokens")
        x = (y.long() * self._powers.to(y.device)).sum(-1)
        if x.numel() and int(x.max()) >= self.vocab:
            raise ValueError(f"sub-tokens encode {int(x.max())}, not a token of the vocabulary [0, {self.vocab - 1}]")
        return x

    def consistent(self, y: Tensor) -> Tensor:
        """Which tokens agree with partly masked sub-tokens: (..., ℓ) → bool (..., V).

        Entry v is True when every revealed digit y^j (≠ [MASK]) equals digit j of v.
        A fully masked token admits all V tokens; a fully revealed one exactly one.
        """
        return self.consistent_codes(y).reshape(*y.shape[:-1], self.num_codes)[..., : self.vocab]

    def consistent_codes(self, y: Tensor) -> Tensor:
        """The same over all b^ℓ codes as an ℓ-axis table, bool (..., b, …, b) (axis j = digit j).

        Built by broadcasting one (…, b) vector per digit (all True where the digit is
        masked, one True where it is revealed): no (…, V, ℓ) intermediate.
        """
        if y.shape[-1] != self.length:
            raise ValueError(f"sub-tokens must have a last axis of ℓ={self.length}, got shape {tuple(y.shape)}")
        b, ell = self.base, self.length
        values = torch.arange(b, device=y.device)
        table: Tensor | None = None
        for j in range(ell):
            yj = y[..., j, None]  # (..., 1)
            allowed = (yj == self.mask_id) | (values == yj)  # (..., b)
            view = allowed.reshape(*allowed.shape[:-1], *([1] * j), b, *([1] * (ell - 1 - j)))
            table = view if table is None else table & view
        assert table is not None
        return table.expand(*y.shape[:-1], *([b] * ell))

    def config(self) -> dict[str, int]:
        return {"vocab": self.vocab, "length": self.length, "base": self.base}

    def __repr__(self) -> str:
        return f"SubTokenCodec(V={self.vocab}, ℓ={self.length}, b={self.base})"
