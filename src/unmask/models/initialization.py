"""One initialisation for every backbone: token content and position comparable at the input.

A backbone's input at a grid position is ``patch_in(patchify(embed(x))) + pos``: a token's
*content* (its embedding, merged over the patch and projected to the width D) plus the
*position* of its patch. What the first block can read is the part of each that varies —
content across tokens, position across positions — relative to the whole vector, because
the block's pre-norm LayerNorm divides by the whole vector's size.

Two schemes (``init``):

* ``"balanced"`` (the default). Token embeddings N(0, σ²) with σ = 1 (σ/√ℓ per slot for ℓ
  MDM-Prime sub-tokens, so their sum has σ), and ``patch_in`` truncated-normal with std
  1/√fan_in (the ViT / MAE patch embedding's scale): the content has about unit size per
  channel, ≈ √D per token. The fixed sin-cos positions are **mean-centred over the grid** and
  rescaled to their raw norm √(D/2): raw sin-cos is mostly a constant vector (low
  frequencies barely change over a small grid — on the 7×7 grid of ``fmnist`` 9.2 of the
  norm 9.8 is the mean over positions, 3.4 varies), which carries no position and only
  shrinks everything else after the LayerNorm. A grid of one position (a label stream) gets
  no position vector. Logit heads of per-position generative outputs are zero (appendix
  C.1: training starts from the uniform prediction); the heads of single-token readouts
  (a one-token label stream, read by one query) get the normal init, since a zero head
  there starves the trunk of gradient and stalls a classifier.
* ``"uvit"``: U-ViT's init, the project's before this scheme (and what checkpoints that do not
  record an ``init`` were trained with): embeddings and ``patch_in`` N(0, 0.02²), raw sin-cos
  positions, every head zero. A token's content is ≈ 0.05–0.1 against a position of ≈ 8–10.

The choice was measured, not guessed: ``benchmarks/learning_speed.py`` and docs/benchmarks.md.

``embed_std`` (None = the scheme's σ) and ``pos_scale`` (a factor on the positions) remain as
ablation knobs on top of either scheme.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from .embeddings import sincos_positions

__all__ = [
    "INITS",
    "LEGACY_INIT",
    "check_init",
    "grid_positions",
    "init_backbone",
    "init_weights",
    "input_norms",
    "with_legacy_init",
]

#: The initialisation schemes (see the module docstring).
INITS = ("balanced", "uvit")
#: What a stored config without an ``init`` field was built with.
LEGACY_INIT = "uvit"


def check_init(init: str, embed_std: float | None, pos_scale: float) -> None:
    """``ValueError`` naming the value unless ``init`` is a scheme, ``embed_std`` None or > 0, ``pos_scale`` > 0."""
    if init not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    if embed_std is not None and not embed_std > 0:
        raise ValueError(f"embed_std must be > 0, got {embed_std}")
    if not pos_scale > 0:
        raise ValueError(f"pos_scale must be > 0, got {pos_scale}")


def with_legacy_init(d: dict[str, Any]) -> dict[str, Any]:
    """A stored backbone dict with ``init`` filled in: configs saved before the field existed were
    U-ViT-initialised and must rebuild the same (non-persistent) positions."""
    return d if "init" in d else {**d, "init": LEGACY_INIT}


def grid_positions(
    grid: tuple[int, ...], dim: int, init: str, pos_scale: float = 1.0, extent: tuple[int, ...] | None = None
) -> Tensor:
    """The fixed positions (prod(grid), dim) of a patch grid under scheme ``init``, times ``pos_scale``.

    ``"uvit"``: raw sin-cos (``sincos_positions``, with ``extent`` the common frame of streams over
    one canvas). ``"balanced"``: the same minus the mean over the frame's cells, rescaled so the
    frame's positions have mean norm √(dim/2) (the raw norm); the frame is ``extent`` when given,
    else the grid, so streams over one canvas keep one affine map and coincident places one vector.
    A grid of one position (a label stream) gets zeros.
    """
    raw = sincos_positions(grid, dim, extent)
    if init == "uvit":
        return raw * pos_scale
    if raw.shape[0] == 1:
        return torch.zeros_like(raw)
    frame = raw if extent is None else sincos_positions(extent, dim)
    mean = frame.mean(0, keepdim=True)
    size = (frame - mean).norm(dim=1).mean().clamp_min(1e-12)
    return (raw - mean) * (math.sqrt(dim / 2) / size) * pos_scale


def init_weights(module: nn.Module, zero: Sequence[nn.Linear]) -> None:
    """Truncated-normal (σ = 0.02) linear layers, normal (σ = 0.02) embeddings, zero biases;
    the layers in ``zero`` (logit heads) entirely zero (appendix C.1)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)
    for head in zero:
        nn.init.zeros_(head.weight)
        if head.bias is not None:
            nn.init.zeros_(head.bias)


def init_backbone(
    module: nn.Module,
    *,
    init: str,
    embed_std: float | None,
    token_inputs: Sequence[tuple[nn.Embedding, nn.Linear, int]],
    generative_heads: Sequence[nn.Linear],
) -> None:
    """Initialise ``module`` under scheme ``init``.

    Every linear layer truncated-normal (σ = 0.02) with zero bias and every embedding N(0, 0.02²)
    (U-ViT's defaults), then: the ``generative_heads`` (per-position logits) zero; under
    ``"balanced"`` each ``(embedding, patch_in, ℓ)`` of ``token_inputs`` gets embeddings of σ / √ℓ
    (σ = ``embed_std`` or 1; ℓ = sub-tokens summed per position, 1 for plain tokens) and a
    ``patch_in`` of std 1/√fan_in. Under ``"uvit"`` only an explicit ``embed_std`` changes the
    embeddings. Heads not listed (single-token readouts) keep the normal init.
    """
    init_weights(module, generative_heads)
    for embed, patch_in, summed in token_inputs:
        if init == "balanced":
            sigma = 1.0 if embed_std is None else embed_std
            nn.init.normal_(embed.weight, std=sigma / math.sqrt(max(summed, 1)))
            std = 1.0 / math.sqrt(patch_in.in_features)
            nn.init.trunc_normal_(patch_in.weight, std=std, a=-2 * std, b=2 * std)
        elif embed_std is not None and embed_std != 0.02:
            nn.init.normal_(embed.weight, std=embed_std)


@torch.no_grad()
def input_norms(content: Callable[[Tensor], Tensor], tokens: Tensor, positions: Tensor) -> dict[str, float]:
    """The sizes a backbone's first block sees at its input, for one stream.

    Args:
        content: token ids → the content part of the input, (B, N, D) (embedding, patch merge,
            projection, without positions).
        tokens: data token ids (B, *grid) to measure the content on (e.g. uniform over the data ids).
        positions: the (N, D) position vectors added to it.

    Returns:
        ``content``: mean per-position norm of the content; ``content_varying``: the same after
        removing its mean over tokens (what tells tokens apart); ``position``: mean norm of the
        position vectors; ``position_varying``: the same after removing their mean over positions
        (what tells positions apart).
    """
    c = content(tokens).float()
    flat = c.reshape(-1, c.shape[-1])
    p = positions.float()
    return {
        "content": float(flat.norm(dim=1).mean()),
        "content_varying": float((flat - flat.mean(0)).norm(dim=1).mean()),
        "position": float(p.norm(dim=1).mean()),
        "position_varying": float((p - p.mean(0)).norm(dim=1).mean()),
    }
