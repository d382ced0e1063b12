"""The trunk every token backbone of ``unmask.models`` shares: pre-norm attention ``Block``s with
U-ViT long skips (``build_blocks``, ``run_blocks``), patchifying a token grid into positions and back
(``patchify``, ``unpatchify``), the trunk's argument checks (``check_trunk``), ``GridTrunkConfig``,
the fields the token-grid backbones' configs share, and ``ConditionedModel``, the base of the
backbones that take a time and a class label as tokens.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "Attention",
    "Block",
    "ConditionedModel",
    "GridModel",
    "GridTrunkConfig",
    "TrunkWrapper",
    "build_blocks",
    "check_grid",
    "check_trunk",
    "check_trunk_of",
    "patchify",
    "run_blocks",
    "unpatchify",
]


def check_trunk(
    *,
    dim: int,
    depth: int,
    heads: int,
    mlp_ratio: float,
    num_classes: int,
    dropout: float,
    vocab_size: int | None = None,
) -> None:
    """``ValueError`` naming the value unless heads divides dim, depth ≥ 1, mlp_ratio > 0,
    num_classes ≥ 0, dropout ∈ [0, 1) and (when given) vocab_size ≥ 2: the checks every backbone
    config shares."""
    if vocab_size is not None and vocab_size < 2:
        raise ValueError(f"vocab_size must be >= 2 (data tokens + [MASK]), got {vocab_size}")
    if dim < 1 or heads < 1 or dim % heads:
        raise ValueError(f"heads ({heads}) must divide dim ({dim}), both >= 1")
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    if not mlp_ratio > 0:
        raise ValueError(f"mlp_ratio must be > 0, got {mlp_ratio}")
    if num_classes < 0:
        raise ValueError(f"num_classes must be >= 0, got {num_classes}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")


def check_trunk_of(config: Any) -> None:
    """``check_trunk`` on a backbone config's own fields (its vocab_size when it has one)."""
    check_trunk(
        dim=config.dim,
        depth=config.depth,
        heads=config.heads,
        mlp_ratio=config.mlp_ratio,
        num_classes=config.num_classes,
        dropout=config.dropout,
        vocab_size=getattr(config, "vocab_size", None),
    )


@dataclass
class GridTrunkConfig:
    """The first fields of the token-grid backbones' configs (``TransformerConfig``,
    ``VideoTransformerConfig``), in their order, and what follows from them; each subclass
    documents what they mean for it, may change a default, and adds its own fields after them.

    Attributes:
        vocab_size: K, token ids including [MASK] (the last id).
        grid: token grid shape.
        patch: tokens per patch along every patched axis.
        dim: model width D.
        depth: transformer blocks.
        heads: attention heads (must divide ``dim``).
        mlp_ratio: MLP hidden width / D.
        token_dim: width of one token's embedding before patch merging; 0 picks
            max(32, D / p^a) rounded to a multiple of 8, a = ``patched_axes``.
        num_classes: class labels (0 = unconditional); the null label is ``num_classes``.
        timestep: True for an explicit-timestep model (ETM, takes t), False for an ITM.
        skip: U-ViT long skip connections.
        dropout: dropout in attention and MLP (0 disables).
    """

    vocab_size: int
    grid: tuple[int, ...]
    patch: int = 1
    dim: int = 256
    depth: int = 8
    heads: int = 4
    mlp_ratio: float = 4.0
    token_dim: int = 0
    num_classes: int = 0
    timestep: bool = True
    skip: bool = True
    dropout: float = 0.0

    def check_trunk(self) -> None:
        """``check_trunk_of`` these fields, and token_dim ≥ 0."""
        check_trunk_of(self)
        if self.token_dim < 0:
            raise ValueError(f"token_dim must be >= 0 (0 = automatic), got {self.token_dim}")

    @property
    def patched_axes(self) -> int:
        """How many grid axes ``patch`` merges (every one, unless a subclass says otherwise)."""
        return len(self.grid)

    @property
    def resolved_token_dim(self) -> int:
        """``token_dim``, or the width it picks when 0 (see the attributes)."""
        if self.token_dim > 0:
            return self.token_dim
        per = self.dim // self.patch**self.patched_axes
        return max(32, (per + 7) // 8 * 8)

    def to_dict(self) -> dict[str, object]:
        """Every field (what a checkpoint stores and rebuilds the model from), the grid as a list."""
        d = asdict(self)
        d["grid"] = list(self.grid)
        return d


def check_grid(grid: tuple[int, ...], patch: int, where: str = "") -> None:
    """``ValueError`` unless ``grid`` has 1 to 3 positive axes and ``patch`` ≥ 1 divides every one;
    ``where`` starts the message (``"stream 'image': "`` for a stream of a multi-stream model)."""
    if not 1 <= len(grid) <= 3 or any(g < 1 for g in grid):
        raise ValueError(f"{where}grid must have 1 to 3 positive axes, got {grid}")
    if patch < 1 or any(g % patch for g in grid):
        raise ValueError(f"{where}patch {patch} must be >= 1 and divide every axis {grid}")


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.dropout = dropout

    def forward(self, x: Tensor, attn_mask: Tensor | None = None) -> Tensor:
        b, n, d = x.shape
        qkv = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)  # (3, B, H, N, Dh)
        y = F.scaled_dot_product_attention(
            qkv[0], qkv[1], qkv[2], attn_mask=attn_mask, dropout_p=self.dropout if self.training else 0.0
        )
        return self.proj(y.transpose(1, 2).reshape(b, n, d))  # (B, N, D)


class Block(nn.Module):
    """Pre-norm transformer block; with ``skip`` it first merges a long-skip input."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, dropout: float, skip: bool) -> None:
        super().__init__()
        self.skip_proj = nn.Linear(2 * dim, dim) if skip else None
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Dropout(dropout), nn.Linear(hidden, dim)
        )

    def forward(self, x: Tensor, skip: Tensor | None = None, attn_mask: Tensor | None = None) -> Tensor:
        if self.skip_proj is not None:
            assert skip is not None, "a block with a long skip needs its skip input"
            x = self.skip_proj(torch.cat([x, skip], dim=-1))
        x = x + self.attn(self.norm1(x), attn_mask)
        return x + self.mlp(self.norm2(x))


def patchify(h: Tensor, grid: tuple[int, ...], patch: int) -> Tensor:
    """(B, *grid, E) → (B, N, p^n E): the p^n embeddings of each patch concatenated, patches in row-major order."""
    b, n = h.shape[0], len(grid)
    shape = [b]
    for g in grid:
        shape += [g // patch, patch]
    h = h.reshape(*shape, h.shape[-1])
    perm = [0] + [1 + 2 * i for i in range(n)] + [2 + 2 * i for i in range(n)] + [1 + 2 * n]
    return h.permute(*perm).reshape(b, -1, patch**n * h.shape[-1])


def unpatchify(y: Tensor, grid: tuple[int, ...], patch: int, channels: int) -> Tensor:
    """(B, N, p^n C) → (B, *grid, C), the inverse of ``patchify``."""
    b, n = y.shape[0], len(grid)
    y = y.reshape(b, *[g // patch for g in grid], *[patch] * n, channels)
    perm = [0]
    for i in range(n):
        perm += [1 + i, 1 + n + i]
    perm.append(1 + 2 * n)
    return y.permute(*perm).reshape(b, *grid, channels)


def build_blocks(
    dim: int, depth: int, heads: int, mlp_ratio: float, dropout: float, skip: bool
) -> tuple[nn.ModuleList, nn.ModuleList, nn.ModuleList]:
    """The U-ViT trunk as (in, mid, out) blocks: with ``skip`` the ⌊depth/2⌋ in-blocks feed long
    skips into the ⌊depth/2⌋ out-blocks (an odd depth leaves one middle block); without, all are mid."""
    n_skip = depth // 2 if skip else 0
    in_blocks = nn.ModuleList(Block(dim, heads, mlp_ratio, dropout, False) for _ in range(n_skip))
    mid_blocks = nn.ModuleList(Block(dim, heads, mlp_ratio, dropout, False) for _ in range(depth - 2 * n_skip))
    out_blocks = nn.ModuleList(Block(dim, heads, mlp_ratio, dropout, True) for _ in range(n_skip))
    return in_blocks, mid_blocks, out_blocks


def run_blocks(
    h: Tensor,
    in_blocks: nn.ModuleList,
    mid_blocks: nn.ModuleList,
    out_blocks: nn.ModuleList,
    attn_mask: Tensor | None = None,
) -> Tensor:
    """Run the trunk of ``build_blocks`` over (B, N, D), long skips joining in- and out-blocks."""
    skips = []
    for blk in in_blocks:
        h = blk(h, attn_mask=attn_mask)
        skips.append(h)
    for blk in mid_blocks:
        h = blk(h, attn_mask=attn_mask)
    for blk in out_blocks:
        h = blk(h, skips.pop(), attn_mask=attn_mask)
    return h


class ConditionedModel(nn.Module):
    """What samplers and the trainer read off every backbone whose ``config`` has ``timestep``
    (ETM or ITM) and ``num_classes`` (0 = unconditional; the null label is ``num_classes``)."""

    config: Any

    @property
    def uses_time(self) -> bool:
        """True for an explicit-timestep model (ETM)."""
        return self.config.timestep

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    @property
    def null_label(self) -> int:
        return self.config.num_classes


class GridModel(ConditionedModel):
    """A backbone over one token grid whose ``config`` is a ``GridTrunkConfig`` with ``subtokens``
    (``Transformer``, ``VideoTransformer``): what the samplers and the trainer read off it."""

    @property
    def vocab_size(self) -> int:
        return self.config.vocab_size

    @property
    def mask_id(self) -> int:
        return self.config.vocab_size - 1

    @property
    def subtokens(self) -> int:
        """ℓ for an MDM-Prime model (inputs (B, *grid, ℓ)), 0 for plain token inputs."""
        return self.config.subtokens


class TrunkWrapper(nn.Module, ABC):
    """A model around a token-grid model, ``trunk`` (the text-conditioned models): the vocabulary,
    [MASK] id, time input and input sizes are the trunk's, the tokens plain (no sub-tokens), and
    the null label is ``num_classes`` (each wrapper says how many classes it has)."""

    @property
    @abstractmethod
    def trunk(self) -> Any:
        """The wrapped model."""

    @property
    @abstractmethod
    def num_classes(self) -> int:
        """Classes of the condition (the null label is this id)."""

    @property
    def vocab_size(self) -> int:
        return int(self.trunk.vocab_size)

    @property
    def mask_id(self) -> int:
        return int(self.trunk.mask_id)

    @property
    def subtokens(self) -> int:
        return 0

    @property
    def uses_time(self) -> bool:
        return bool(self.trunk.uses_time)

    @property
    def null_label(self) -> int:
        return self.num_classes

    def input_norms(self, n: int = 64, seed: int = 0) -> dict[str, dict[str, float]]:
        """The image tokens' sizes at the input (the trunk's ``input_norms``)."""
        norms: dict[str, dict[str, float]] = self.trunk.input_norms(n, seed)
        return norms
