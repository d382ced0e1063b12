"""Continuation of token clips: the first K frames given, the rest to be drawn.

Every sampler already treats positions of ``x_init`` that are not [MASK] as conditions: they
get reveal step −1, are never masked and never re-drawn, and the network sees them at every
call (Euler, MaskGIT; ``SampleOutput.reveal_step`` is −1 there). Continuation is therefore
only a starting state — the given frames followed by all-[MASK] frames — and not a second
sampler. The same holds for ETMs and ITMs; CFG's null branch keeps the given frames too
(only the class label is dropped).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .._checks import check_tokens

__all__ = ["continuation_init"]


def continuation_init(prefix: Tensor, grid: tuple[int, ...], vocab_size: int) -> Tensor:
    """The starting tokens (B, T, H, W) of a continuation: ``prefix`` then [MASK].

    Args:
        prefix: given frames (B, K, H, W), integer ids in [0, vocab_size − 2] (no [MASK]),
            0 ≤ K < T (K = 0 draws whole clips).
        grid: the model's clip grid (T, H, W).
        vocab_size: K_vocab, ids including [MASK] (the last id).

    Raises:
        ValueError: a prefix of T or more frames (nothing left to draw), frames of another
            size than (H, W), or ids outside the data vocabulary — naming the value.
    """
    if len(grid) != 3:
        raise ValueError(f"continuation needs a clip grid (T, H, W), got {tuple(grid)}")
    frames, h, w = (int(g) for g in grid)
    if prefix.ndim != 4:
        raise ValueError(f"prefix must be token clips (B, K, H, W), got shape {tuple(prefix.shape)}")
    k = int(prefix.shape[1])
    if k >= frames:
        raise ValueError(
            f"a prefix of {k} frames leaves nothing to draw in clips of {frames} frames; give 0 … {frames - 1} frames"
        )
    if tuple(prefix.shape[2:]) != (h, w):
        raise ValueError(
            f"prefix frames are {prefix.shape[2]}×{prefix.shape[3]} tokens but the model's frames are {h}×{w}"
        )
    check_tokens(prefix, vocab_size, allow_mask=False, name="prefix frames")
    x = torch.full((prefix.shape[0], frames, h, w), vocab_size - 1, dtype=torch.long, device=prefix.device)
    x[:, :k] = prefix.long()
    return x
