"""Starting states of edits: given tokens kept, [MASK] where to draw; continuation of clips as one of them.

Every sampler already treats positions of ``x_init`` that are not [MASK] as conditions: they
get reveal step −1, are never masked and never re-drawn, and the network sees them at every
call (Euler, MaskGIT; ``SampleOutput.reveal_step`` is −1 there). An edit is therefore only a
starting state — the given tokens with [MASK] over the region to regenerate (``edit_init``) —
and not a second sampler. The same holds for ETMs and ITMs; CFG's null branch keeps the given
tokens too (only the class label is dropped).

Clips (T, H, W): ``frame_region`` marks some frames (optionally only a 2-D region within them).
Continuation — the first K frames given, the rest drawn — is the edit whose region is frames
K … T − 1 whole: ``continuation_init`` builds exactly that state through ``frame_region`` and
``edit_init``, so ``unmask sample --prefix-frames K`` and ``unmask inpaint --frames K:`` start
from the same tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from .._checks import check_tokens

__all__ = ["continuation_init", "edit_init", "frame_region"]


def edit_init(tokens: Tensor, region: Tensor, vocab_size: int) -> Tensor:
    """The starting tokens of an edit: ``tokens`` with [MASK] (id ``vocab_size − 1``) where ``region`` is True.

    Args:
        tokens: (B, *grid) integer ids in [0, vocab_size − 2] (no [MASK]).
        region: bool, shape (B, *grid) or (*grid) (the same region for every row): True = regenerate.
        vocab_size: K_vocab, ids including [MASK] (the last id).

    Returns:
        (B, *grid) int64 on ``tokens``' device.

    Raises:
        ValueError: a region that is not bool or whose shape fits neither form, or tokens
            outside the data vocabulary — naming the value.
    """
    if region.dtype != torch.bool:
        raise ValueError(f"the edit region must be a bool tensor, got dtype {region.dtype}")
    shape = tuple(tokens.shape)
    if tuple(region.shape) not in (shape, shape[1:]):
        raise ValueError(f"the edit region has shape {tuple(region.shape)}; the tokens are {shape}")
    check_tokens(tokens, vocab_size, allow_mask=False, name="given tokens")
    return tokens.long().masked_fill(region.to(tokens.device), vocab_size - 1)


def frame_region(grid: Sequence[int], frames: Sequence[int], pixels: Tensor | None = None) -> Tensor:
    """The region (T, H, W) bool of a clip grid that covers ``frames`` (each whole, or ``pixels`` of each).

    Args:
        grid: the clip grid (T, H, W).
        frames: frame indices in [0, T − 1] to regenerate (any order; repeats are harmless).
        pixels: optional (H, W) bool region within each chosen frame; default the whole frame.

    Raises:
        ValueError: a grid that is not (T, H, W), a frame index out of range, or ``pixels`` of
            another shape than (H, W) — naming the value.
    """
    if len(grid) != 3:
        raise ValueError(f"a frame region needs a clip grid (T, H, W), got {tuple(grid)}")
    t, h, w = (int(g) for g in grid)
    out = torch.zeros((t, h, w), dtype=torch.bool)
    within = torch.ones((h, w), dtype=torch.bool) if pixels is None else torch.as_tensor(pixels).bool()
    if tuple(within.shape) != (h, w):
        raise ValueError(f"the region within frames has shape {tuple(within.shape)}; the model's frames are {h}×{w}")
    for f in frames:
        if not 0 <= int(f) < t:
            raise ValueError(f"frame {f} is out of range: the model's clips have frames 0 … {t - 1}")
        out[int(f)] = within
    return out


def continuation_init(prefix: Tensor, grid: tuple[int, ...], vocab_size: int) -> Tensor:
    """The starting tokens (B, T, H, W) of a continuation: ``prefix`` then [MASK].

    The edit of frames K … T − 1 (``frame_region``) of the prefix padded to T frames (``edit_init``).

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
    clips = torch.zeros((prefix.shape[0], frames, h, w), dtype=torch.long, device=prefix.device)
    clips[:, :k] = prefix.long()  # frames K … T − 1 are placeholders: the region covers them
    return edit_init(clips, frame_region(grid, range(k, frames)), vocab_size)
