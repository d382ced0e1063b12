"""A U-ViT-style transformer over token grids (1-D sequences, 2-D images, 3-D clips).

Design (and why):

* **U-ViT, not DiT.** Conditions (the time t of an explicit-timestep model, the class
  label) enter as extra tokens in the sequence, and long skip connections join
  shallow and deep blocks (Bao et al. 2023, the backbone of the paper). In-context
  conditioning treats "no t" (implicit-timestep models) and "no label"
  (unconditional) by just leaving tokens out, and later conditions (text,
  several token streams) are more tokens; DiT's adaLN needs one pooled
  conditioning vector, which an ITM without labels does not have.
* **Patchify the token grid.** Each token id is embedded (width ``token_dim``), the
  embeddings of a p×p patch (p along every axis) are concatenated and projected to
  the model width, so a 28×28 grid with p = 2 is 196 positions instead of 784. The
  head predicts all p^n tokens of a patch, independently per token given the
  sequence, matching the factorised p_{1|t} of Eq. 10.
* **Output over data tokens only.** The head has K − 1 outputs: [MASK] gets no mass
  by construction. It is zero-initialised (appendix C.1 finds the initialisation of
  the logits layer crucial for stable training): training starts from the uniform
  prediction and the gradients into the trunk grow from zero.
* Attention goes through ``F.scaled_dot_product_attention`` (flash / memory-efficient
  kernels on GPU, math on CPU).
* **Sub-token inputs (MDM-Prime).** With ``subtokens = ℓ`` the input at each grid
  position is ℓ sub-tokens (digit j in [0, b], b = that digit's [MASK]); each digit
  slot has its own embedding table and a position's embedding is the sum over its ℓ
  slots (the same as concatenating ℓ one-hots and projecting), so the sequence
  length stays that of the token grid. The output is unchanged: logits over the V
  full tokens, which the carry-over parameterisation (``unmask.prime``) restricts.
* **Causal mode.** ``causal=True`` masks attention to earlier positions only: the
  same backbone, fed ``[BOS, x_1 … x_{L−1}]`` (BOS = the [MASK] id), is the
  autoregressive reference model of equal size.

The trunk it shares with the other backbones (blocks, patchify, ``ConditionedModel``) is in
:mod:`.blocks`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .blocks import (
    Block,
    GridModel,
    GridTrunkConfig,
    build_blocks,
    check_grid,
    check_trunk,
    patchify,
    run_blocks,
    unpatchify,
)
from .embeddings import LabelEmbedder, TimestepEmbedder
from .initialization import check_init, grid_positions, init_backbone, init_weights, input_norms

__all__ = [
    "TransformerConfig",
    "Transformer",
    "Block",
    "patchify",
    "unpatchify",
    "build_blocks",
    "run_blocks",
    "init_weights",
    "check_trunk",
]


@dataclass
class TransformerConfig(GridTrunkConfig):
    """Shape of a backbone (its first fields are ``GridTrunkConfig``'s).

    Attributes:
        vocab_size: K, token ids including [MASK] (the last id).
        grid: token grid shape, e.g. (64,) for text or (8, 8) for digits.
        patch: tokens per patch along every grid axis (each axis must divide by it).
        dim: model width D.
        depth: transformer blocks; with ``skip`` the first ⌊depth/2⌋ feed long skips
            into the last ⌊depth/2⌋ and an odd depth leaves one middle block.
        heads: attention heads (must divide ``dim``).
        mlp_ratio: MLP hidden width / D.
        token_dim: width of one token's embedding before patch merging; 0 picks
            max(32, D / p^n) rounded to a multiple of 8.
        num_classes: class labels for conditioning (0 = unconditional); the null
            label [C] is id ``num_classes``.
        timestep: True for an explicit-timestep model (ETM, takes t), False for an
            implicit-timestep model (ITM, ignores t).
        skip: U-ViT long skip connections.
        dropout: dropout in attention and MLP (0 disables).
        subtokens: ℓ ≥ 1 to take MDM-Prime sub-token inputs (B, *grid, ℓ); 0 for
            plain token inputs (B, *grid).
        subtoken_vocab: b + 1, ids per sub-token including its [MASK] (with ``subtokens``);
            must satisfy b^ℓ ≥ V = vocab_size − 1.
        causal: attend to earlier positions only (autoregressive use; needs patch 1).
        init: the initialisation scheme, "balanced" (default) or "uvit" (``unmask.models.initialization``):
            balanced makes a token's content and the varying part of its position comparable at the
            input; uvit is U-ViT's (embeddings σ 0.02, raw sin-cos positions), under which a token's
            content is ~100× smaller than its position.
        embed_std: σ of the token embeddings, overriding the scheme's (None: 1 balanced, 0.02 uvit).
        pos_scale: factor on the fixed positions (> 0; 1 = the scheme's).
    """

    subtokens: int = 0
    subtoken_vocab: int = 0
    causal: bool = False
    init: str = "balanced"
    embed_std: float | None = None
    pos_scale: float = 1.0

    def __post_init__(self) -> None:
        self.grid = tuple(int(g) for g in self.grid)
        check_init(self.init, self.embed_std, self.pos_scale)
        check_grid(self.grid, self.patch)
        self.check_trunk()
        if self.subtokens < 0:
            raise ValueError(f"subtokens must be >= 0 (0 = plain tokens), got {self.subtokens}")
        if self.subtokens and (
            self.subtoken_vocab < 3 or (self.subtoken_vocab - 1) ** self.subtokens < self.vocab_size - 1
        ):
            raise ValueError(
                f"subtoken_vocab={self.subtoken_vocab} (base b = {self.subtoken_vocab - 1}) cannot spell "
                f"{self.vocab_size - 1} tokens with ℓ={self.subtokens} sub-tokens"
            )
        if self.causal and (self.patch != 1 or len(self.grid) != 1):
            raise ValueError(f"a causal model needs a 1-D grid and patch 1, got grid {self.grid}, patch {self.patch}")

    @property
    def num_positions(self) -> int:
        """Sequence positions after patchify (without condition tokens)."""
        return math.prod(g // self.patch for g in self.grid)


class Transformer(GridModel):
    """p_{1|t}(x_1 | x_t, t, c; θ): logits over data tokens at every grid position.

    ``forward(x, t, labels)`` takes
      * ``x``: token ids (B, *grid) in [0, K − 1] ([MASK] = K − 1);
      * ``t``: times (B,) in [0, 1] for an ETM; ignored (may be None) for an ITM;
      * ``labels``: class ids (B,) in [0, num_classes] (num_classes = null label), or
        None for the null label; must be None for an unconditional model;
    and returns logits (B, *grid, K − 1) over the data tokens.
    """

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = c = config
        n_axes = len(c.grid)
        e = c.resolved_token_dim
        # plain: one table over the K ids; sub-tokens: one table per digit slot, stacked
        self.token_embed = nn.Embedding(c.subtokens * c.subtoken_vocab if c.subtokens else c.vocab_size, e)
        if c.subtokens:
            offsets = torch.arange(c.subtokens) * c.subtoken_vocab
            self.slot_offsets: Tensor  # (ℓ,) the first id of each digit slot's table, a buffer
            self.register_buffer("slot_offsets", offsets, persistent=False)
        self.patch_in = nn.Linear(c.patch**n_axes * e, c.dim)
        self.pos: Tensor  # (N, D) the fixed positions of the patch grid, a buffer
        pos = grid_positions(tuple(g // c.patch for g in c.grid), c.dim, c.init, c.pos_scale)
        self.register_buffer("pos", pos, persistent=False)
        self.time_embed = TimestepEmbedder(c.dim) if c.timestep else None
        self.label_embed = LabelEmbedder(c.num_classes, c.dim) if c.num_classes > 0 else None
        self.num_prefix = int(c.timestep) + int(c.num_classes > 0)

        self.in_blocks, self.mid_blocks, self.out_blocks = build_blocks(
            c.dim, c.depth, c.heads, c.mlp_ratio, c.dropout, c.skip
        )
        self.norm = nn.LayerNorm(c.dim)
        self.head = nn.Linear(c.dim, c.patch**n_axes * (c.vocab_size - 1))
        self._init_weights()

    def _init_weights(self) -> None:
        c = self.config
        init_backbone(
            self,
            init=c.init,
            embed_std=c.embed_std,
            token_inputs=[(self.token_embed, self.patch_in, max(c.subtokens, 1))],
            generative_heads=[self.head],
        )

    def content(self, x: Tensor) -> Tensor:
        """The content part of the input: token ids (B, *grid) or sub-tokens (B, *grid, ℓ) →
        (B, N, D), embedded, merged per patch and projected (the positions are added to it)."""
        c = self.config
        if c.subtokens:
            emb = self.token_embed(x + self.slot_offsets).sum(-2)  # (B, *grid, E)
        else:
            emb = self.token_embed(x)  # (B, *grid, E)
        return self.patch_in(self._patchify(emb))  # type: ignore[no-any-return]

    def input_norms(self, n: int = 64, seed: int = 0) -> dict[str, dict[str, float]]:
        """{"tokens": sizes at the input} (``unmask.models.initialization.input_norms``), measured on
        ``n`` sequences of uniform data tokens (sub-tokens of uniform data tokens for MDM-Prime)."""
        c = self.config
        device = self.pos.device
        gen = torch.Generator().manual_seed(seed)
        x = torch.randint(0, c.vocab_size - 1, (n, *c.grid), generator=gen).to(device)
        if c.subtokens:
            b = c.subtoken_vocab - 1
            x = torch.stack([(x // b**j) % b for j in reversed(range(c.subtokens))], dim=-1)
        return {"tokens": input_norms(self.content, x, self.pos)}

    # -- patchify ---------------------------------------------------------------------
    def _patchify(self, h: Tensor) -> Tensor:
        """(B, *grid, E) → (B, N, p^n E)."""
        return patchify(h, self.config.grid, self.config.patch)

    def _unpatchify(self, y: Tensor, channels: int) -> Tensor:
        """(B, N, p^n C) → (B, *grid, C)."""
        return unpatchify(y, self.config.grid, self.config.patch, channels)

    def forward(
        self,
        x: Tensor,
        t: Tensor | None = None,
        labels: Tensor | None = None,
        context: Tensor | None = None,
        context_mask: Tensor | None = None,
    ) -> Tensor:
        """Logits (B, *grid, K − 1); ``context`` (B, C, D) are extra in-context condition tokens (text),
        ``context_mask`` (B, C) bool marks the real ones (the others are never attended to)."""
        c = self.config
        b = x.shape[0]
        if c.subtokens:
            if tuple(x.shape[1:]) != (*c.grid, c.subtokens):
                raise ValueError(
                    f"sub-tokens of shape {tuple(x.shape)} do not match the model grid (B, {c.grid}) "
                    f"with ℓ={c.subtokens} sub-tokens per token"
                )
        elif tuple(x.shape[1:]) != c.grid:
            raise ValueError(f"tokens of shape {tuple(x.shape)} do not match the model grid (B, {c.grid})")
        h = self.content(x) + self.pos  # (B, N, D)
        prefix = []
        if self.time_embed is not None:
            if t is None:
                raise ValueError("this explicit-timestep model needs t; got None")
            prefix.append(self.time_embed(t.reshape(b))[:, None])  # (B, 1, D)
        if self.label_embed is not None:
            if labels is None:
                labels = torch.full((b,), self.null_label, dtype=torch.long, device=x.device)
            prefix.append(self.label_embed(labels)[:, None])  # (B, 1, D)
        elif labels is not None:
            raise ValueError("this model is unconditional (num_classes=0) but labels were given")
        key_mask = None
        if context is not None:
            if context.shape[0] != b or context.shape[-1] != c.dim:
                raise ValueError(f"context of shape {tuple(context.shape)} does not fit (B={b}, C, D={c.dim})")
            prefix.append(context)  # (B, C, D)
            if context_mask is not None:  # every other token (time, label, image) is always attended to
                n_other = int(self.time_embed is not None) + int(self.label_embed is not None)
                keep = torch.ones(b, n_other + c.num_positions, dtype=torch.bool, device=x.device)
                key_mask = torch.cat([keep[:, :n_other], context_mask.bool(), keep[:, n_other:]], dim=1)
        num_prefix = sum(p.shape[1] for p in prefix)
        if prefix:
            h = torch.cat(prefix + [h], dim=1)  # (B, P + N, D)

        mask = key_mask[:, None, None, :] if key_mask is not None else None  # (B, 1, 1, P + N)
        if c.causal:  # prefix (condition) tokens are visible to all; positions see themselves and earlier ones
            n = h.shape[1]
            mask = torch.ones(n, n, dtype=torch.bool, device=h.device).tril()
            mask[:, :num_prefix] = True
            if key_mask is not None:
                mask = mask[None, None] & key_mask[:, None, None, :]
        h = run_blocks(h, self.in_blocks, self.mid_blocks, self.out_blocks, mask)

        h = self.norm(h[:, num_prefix:])  # (B, N, D)
        return self._unpatchify(self.head(h), c.vocab_size - 1)  # (B, *grid, K - 1)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
