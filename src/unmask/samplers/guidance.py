"""Classifier-free guidance on logits, cond and uncond in one batched forward (paper Eq. 5)."""

from __future__ import annotations

import math
from typing import Protocol

import torch
from torch import Tensor

__all__ = ["TokenModel", "guided_logits", "check_cfg"]


class TokenModel(Protocol):
    """What samplers need from a model: ``model(x, t, labels) -> logits (B, *grid, K − 1)``."""

    @property
    def vocab_size(self) -> int: ...

    @property
    def uses_time(self) -> bool: ...

    @property
    def num_classes(self) -> int: ...

    @property
    def null_label(self) -> int: ...

    def __call__(self, x: Tensor, t: Tensor | None, labels: Tensor | None) -> Tensor: ...


def check_cfg(cfg: float, name: str = "cfg scale") -> float:
    """CFG scale must be a finite number >= 0 (1 = plain conditional, 0 = unconditional); errors call it ``name``."""
    v = float(cfg)
    if not (v >= 0 and math.isfinite(v)):
        raise ValueError(f"{name} must be a finite number >= 0, got {cfg}")
    return v


def guided_logits(model: TokenModel, x: Tensor, t: Tensor | None, labels: Tensor | None, cfg: float) -> Tensor:
    """l_uncond + w (l_cond − l_uncond) for tokens ``x`` (B, *grid), times ``t`` (B,) or None.

    With ``labels`` None, or w = 1, this is a single plain forward; with w = 0 a
    single unconditional forward; otherwise one forward over the doubled batch
    [x; x] with labels [labels; null].
    """
    if labels is None or cfg == 1.0:
        return model(x, t, labels)
    null = torch.full_like(labels, model.null_label)
    if cfg == 0.0:
        return model(x, t, null)
    t2 = None if t is None else torch.cat([t, t])
    both = model(torch.cat([x, x]), t2, torch.cat([labels, null]))
    if both.dtype in (torch.float16, torch.bfloat16):
        both = both.float()  # guidance arithmetic in at least float32
    cond, uncond = both.chunk(2)
    return uncond + cfg * (cond - uncond)
