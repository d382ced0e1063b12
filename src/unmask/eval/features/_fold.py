"""Folding an eval-mode batch norm into the convolution before it (inference-only networks of this package)."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


def fold_batch_norm(owner: nn.Module, conv: str, bn: str) -> None:
    """Fold ``owner.<bn>`` (a batch norm with tracked statistics) into ``owner.<conv>``, the convolution before it,
    in place: per output channel W' = W·s and b' = (b − μ)·s + β with s = γ / √(σ² + ε); the batch norm becomes an
    identity and the convolution gains a bias, both without gradients. Only right in eval mode (the caller checks).
    """
    c, b = getattr(owner, conv), getattr(owner, bn)
    if not isinstance(c, nn.Conv2d) or not isinstance(b, nn.BatchNorm2d):
        raise TypeError(f"{type(owner).__name__}.{conv} / .{bn} are not a Conv2d and a BatchNorm2d")
    if b.running_mean is None or b.running_var is None:
        raise ValueError(f"{type(owner).__name__}.{bn} tracks no running statistics: nothing to fold")
    with torch.no_grad():
        scale = b.weight / torch.sqrt(b.running_var + b.eps)
        bias = -b.running_mean if c.bias is None else c.bias - b.running_mean
        c.weight = nn.Parameter(c.weight * scale[:, None, None, None], requires_grad=False)
        c.bias = nn.Parameter(bias * scale + b.bias, requires_grad=False)
    setattr(owner, bn, nn.Identity())


def fold_all(model: nn.Module, pairs: Iterable[tuple[nn.Module, str, str]], name: str) -> None:
    """Fold every (owner, conv, bn) of ``pairs`` (see :func:`fold_batch_norm`) and mark ``model.fused``.

    Raises:
        ValueError: ``model`` is in training mode (its batch norms would use batch statistics) or is already
            fused (``name`` names it).
    """
    if model.training:
        raise ValueError("fuse_batch_norms_ needs eval mode: in training, batch norm uses batch statistics")
    if getattr(model, "fused", False):
        raise ValueError(f"this {name} is already fused")
    for owner, conv, bn in list(pairs):  # a list: folding replaces submodules
        fold_batch_norm(owner, conv, bn)
    setattr(model, "fused", True)  # noqa: B010 (nn.Module.__setattr__ is typed for tensors and modules)
