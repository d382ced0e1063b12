"""Training-time augmentation of token grids: random translations (``data.shift``).

A shift moves every sample of a batch by its own (dy, dx) drawn uniformly from
``[-shift, shift]²``, filling the uncovered border by repeating the edge row / column
(the "edge" padding of a random crop). Tokens are ids, so nothing is interpolated: a shifted
grid holds only ids the input held.

Multi-stream samples (an image and its mask) move together: the shift is drawn in cells of the
coarsest spatial stream and scaled to each finer one (a 16×16 mask moved by one cell moves its
32×32 image by two pixels), so the streams stay aligned. Streams whose grid is not 2-D (a label,
a caption) are left as they are.

The draw is a pure function of (seed, step), so a resumed run sees the batches an uninterrupted
one would.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["shift_generator", "shift_grid", "shift_streams", "shift_tokens", "stream_shift_factors"]


def shift_generator(seed: int, step: int) -> torch.Generator:
    """The CPU generator of training step ``step``'s shifts (independent of the model's draws)."""
    return torch.Generator().manual_seed((int(seed) * 1_000_003 + int(step) * 7_919 + 0x5EED) % (2**63))


def shift_grid(tokens: Tensor, dy: Tensor, dx: Tensor) -> Tensor:
    """``tokens`` (B, *rest, H, W) moved by (dy[b], dx[b]) cells, edge-replicated at the border.

    Args:
        tokens: any dtype, at least 3-D; the last two axes are the grid (rows, columns); axes between
            the batch and the grid (a clip's frames) move with the grid.
        dy, dx: (B,) int64 offsets; positive moves content down / right.

    Returns:
        A new tensor of ``tokens``' shape and dtype; ``out[b, ..., i, j] = tokens[b, ..., clamp(i − dy[b]),
        clamp(j − dx[b])]``.
    """
    if tokens.dim() < 3:
        raise ValueError(f"shift_grid needs (B, ..., H, W) tokens, got shape {tuple(tokens.shape)}")
    b, h, w = tokens.shape[0], tokens.shape[-2], tokens.shape[-1]
    if dy.shape != (b,) or dx.shape != (b,):
        raise ValueError(f"dy and dx must have shape ({b},), got {tuple(dy.shape)} and {tuple(dx.shape)}")
    device = tokens.device
    dy, dx = dy.to(device), dx.to(device)
    flat = tokens.reshape(b, -1, h, w)
    rows = (torch.arange(h, device=device)[None, :] - dy[:, None]).clamp(0, h - 1)  # (B, H)
    cols = (torch.arange(w, device=device)[None, :] - dx[:, None]).clamp(0, w - 1)  # (B, W)
    bi = torch.arange(b, device=device)[:, None, None, None]
    mi = torch.arange(flat.shape[1], device=device)[None, :, None, None]
    out = flat[bi, mi, rows[:, None, :, None], cols[:, None, None, :]]
    return out.reshape(tokens.shape)


def stream_shift_factors(grids: dict[str, tuple[int, ...]]) -> dict[str, int]:
    """How many cells of each spatial stream one cell of the coarsest spatial stream spans.

    Spatial streams are those whose grid has at least two axes (the last two are rows and columns);
    the others (labels, captions) are absent from the result. ``ValueError`` when a stream's grid is
    not a whole multiple of the coarsest one's on both axes (they could not move together).
    """
    spatial = {k: (g[-2], g[-1]) for k, g in grids.items() if len(g) >= 2}
    if not spatial:
        return {}
    coarse = min(spatial.values(), key=lambda hw: hw[0] * hw[1])
    factors: dict[str, int] = {}
    for name, (h, w) in spatial.items():
        if h % coarse[0] or w % coarse[1] or h // coarse[0] != w // coarse[1]:
            raise ValueError(
                f"data.shift cannot move stream {name!r} ({h}×{w}) together with a {coarse[0]}×{coarse[1]} stream: "
                "its grid is not a whole, equal multiple of the coarsest grid on both axes"
            )
        factors[name] = h // coarse[0]
    return factors


def _draw(batch: int, shift: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    d = torch.randint(-shift, shift + 1, (2, batch), generator=generator)
    return d[0], d[1]


def shift_streams(
    streams: dict[str, Tensor], grids: dict[str, tuple[int, ...]], shift: int, generator: torch.Generator
) -> dict[str, Tensor]:
    """Every spatial stream of a batch moved by the same per-sample offset (in coarsest-grid cells).

    Args:
        streams: {name: (B, *grid) tokens}.
        grids: {name: grid} of the dataset (``StreamDataset.grids``).
        shift: the largest offset, in cells of the coarsest spatial stream (≥ 0; 0 returns ``streams``).
        generator: the step's generator (``shift_generator``).
    """
    if shift < 0:
        raise ValueError(f"shift must be >= 0, got {shift}")
    if shift == 0:
        return streams
    factors = stream_shift_factors(grids)
    batch = next(iter(streams.values())).shape[0]
    dy, dx = _draw(batch, shift, generator)
    return {k: (shift_grid(v, dy * factors[k], dx * factors[k]) if k in factors else v) for k, v in streams.items()}


def shift_tokens(tokens: Tensor, shift: int, generator: torch.Generator) -> Tensor:
    """A batch of token grids (B, *rest, H, W) each moved by its own offset in ``[-shift, shift]²``."""
    if shift < 0:
        raise ValueError(f"shift must be >= 0, got {shift}")
    if shift == 0:
        return tokens
    dy, dx = _draw(tokens.shape[0], shift, generator)
    return shift_grid(tokens, dy, dx)
