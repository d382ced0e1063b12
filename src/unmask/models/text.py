"""Text-conditioned backbone: caption token embeddings as in-context tokens of the U-ViT trunk.

* ``TextTransformer`` wraps the token-grid ``Transformer`` (unconditional in its labels): a
  caption arrives as C token embeddings (B, C, E) with a mask (B, C), is normalised, projected
  to the model width, given learned text positions and put into the sequence next to the time
  token and the image patches. In-context tokens and not cross-attention: the trunk is U-ViT,
  whose conditions are already tokens (time, class); text is "more tokens", every block
  attends to them with the same weights it uses for image tokens, and no second attention
  path is needed. At 16 text tokens beside 64 image patches the extra cost is small.
* **The null caption** (classifier-free guidance, condition dropout, the empty caption) is a
  row whose mask is all False. It is replaced by one learned null token, so a dropped
  condition and an empty caption are the same input by construction.
* With ``scratch_vocab > 0`` the model owns a small ``ScratchTextEncoder`` trained with it
  (its weights are in the checkpoint) and takes caption *ids* (B, C); otherwise it takes the
  embeddings of a frozen encoder (``unmask.text_encoders``), which are not weights of the model
  and are recorded in the config by name and SHA-256 (``encoder``).
* ``CaptionConditioned`` binds a table of captions to a text model and presents it as a
  class-conditional model whose class i is caption i and whose null label is the null
  caption: every sampler (Euler, MaskGIT), CFG's one doubled forward and the trainer's
  condition dropout apply unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from .blocks import TrunkWrapper
from .initialization import init_weights, with_legacy_init
from .transformer import Block, Transformer, TransformerConfig

__all__ = ["ScratchTextEncoder", "TextTransformerConfig", "TextTransformer", "CaptionConditioned"]


class ScratchTextEncoder(nn.Module):
    """A small transformer over caption token ids, trained from scratch with the generator.

    ``forward(ids, mask)``: ids (B, C) in [0, vocab_size) (0 = padding), mask (B, C) bool
    → (B, C, dim) token embeddings (padding positions are computed but never attended to).
    """

    def __init__(self, vocab_size: int, max_length: int, dim: int, depth: int, heads: int) -> None:
        super().__init__()
        if vocab_size < 2 or max_length < 1 or depth < 0 or dim < 1 or heads < 1 or dim % heads:
            raise ValueError(
                f"bad scratch text encoder: vocab_size={vocab_size}, max_length={max_length}, dim={dim}, "
                f"depth={depth}, heads={heads} (heads must divide dim)"
            )
        self.embed = nn.Embedding(vocab_size, dim)
        self.pos = nn.Parameter(torch.zeros(max_length, dim))
        self.blocks = nn.ModuleList(Block(dim, heads, 2.0, 0.0, False) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        nn.init.normal_(self.pos, std=0.02)

    def forward(self, ids: Tensor, mask: Tensor) -> Tensor:
        h = self.embed(ids) + self.pos[: ids.shape[1]]  # (B, C, E)
        # a null row (no real token) attends to its first slot only, so no softmax over nothing
        keys = mask.clone()
        keys[:, 0] = True
        attn = keys[:, None, None, :]  # (B, 1, 1, C)
        for blk in self.blocks:
            h = blk(h, attn_mask=attn)
        return self.norm(h)


@dataclass
class TextTransformerConfig:
    """Shape of a text-conditioned backbone.

    Attributes:
        backbone: the token-grid trunk (``num_classes`` must be 0: the caption is the condition).
        text_len: C, caption tokens per caption (longer captions are truncated by the encoder).
        text_dim: E, width of one caption token's embedding.
        encoder: the text encoder's spec (``unmask.text_encoders``): name, and for frozen
            encoders the SHA-256 of their weights; loading refuses another encoder.
        scratch_vocab: > 0 for a model that owns a ``ScratchTextEncoder`` over ids in
            [0, scratch_vocab) (its width is ``text_dim``); 0 for frozen-encoder embeddings.
        scratch_depth, scratch_heads: that encoder's blocks and heads.
    """

    backbone: TransformerConfig
    text_len: int
    text_dim: int
    encoder: dict[str, Any] = field(default_factory=dict)
    scratch_vocab: int = 0
    scratch_depth: int = 2
    scratch_heads: int = 2

    def __post_init__(self) -> None:
        if isinstance(self.backbone, dict):
            bb = with_legacy_init(dict(self.backbone))
            bb["grid"] = tuple(bb["grid"])
            self.backbone = TransformerConfig(**bb)
        if self.backbone.num_classes:
            raise ValueError(
                f"a text-conditioned backbone takes no class labels, got num_classes={self.backbone.num_classes}"
            )
        if self.text_len < 1:
            raise ValueError(f"text_len must be >= 1, got {self.text_len}")
        if self.text_dim < 1:
            raise ValueError(f"text_dim must be >= 1, got {self.text_dim}")
        if self.scratch_vocab < 0:
            raise ValueError(f"scratch_vocab must be >= 0, got {self.scratch_vocab}")

    # what the samplers read from ``model.config``
    @property
    def grid(self) -> tuple[int, ...]:
        return self.backbone.grid

    @property
    def causal(self) -> bool:
        return False

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "text",
            "backbone": self.backbone.to_dict(),
            "text_len": self.text_len,
            "text_dim": self.text_dim,
            "encoder": dict(self.encoder),
            "scratch_vocab": self.scratch_vocab,
            "scratch_depth": self.scratch_depth,
            "scratch_heads": self.scratch_heads,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TextTransformerConfig:
        d = {k: v for k, v in d.items() if k != "kind"}
        return cls(**d)


class TextTransformer(TrunkWrapper):
    """p_{1|t}(x_1 | x_t, t, caption; θ).

    ``forward(x, t, text, text_mask)`` takes tokens ``x`` (B, *grid) in [0, K − 1], times ``t``
    (B,) in [0, 1] (ETM; ignored by an ITM), the caption ``text`` — ids (B, C) int64 for a
    scratch-encoder model, embeddings (B, C, E) float otherwise — and ``text_mask`` (B, C) bool
    (a row with no True is the null caption); returns logits (B, *grid, K − 1).
    """

    def __init__(self, config: TextTransformerConfig) -> None:
        super().__init__()
        self.config = c = config
        self.backbone = Transformer(c.backbone)
        d = c.backbone.dim
        self.text_encoder = (
            ScratchTextEncoder(c.scratch_vocab, c.text_len, c.text_dim, c.scratch_depth, c.scratch_heads)
            if c.scratch_vocab
            else None
        )
        self.text_norm = nn.LayerNorm(c.text_dim)
        self.text_proj = nn.Linear(c.text_dim, d)
        self.text_pos = nn.Parameter(torch.zeros(c.text_len, d))
        self.null_text = nn.Parameter(torch.zeros(d))
        init_weights(self.text_proj, [])
        if self.text_encoder is not None:
            init_weights(self.text_encoder, [])
            if c.backbone.init == "balanced":  # word content and learned positions both of unit size
                nn.init.normal_(self.text_encoder.embed.weight, std=1.0)
                nn.init.normal_(self.text_encoder.pos, std=1.0)
        nn.init.normal_(self.text_pos, std=0.02)
        nn.init.normal_(self.null_text, std=0.02)

    @property
    def trunk(self) -> Transformer:
        """The token-grid ``Transformer`` (caption tokens are tokens of their own, normalised before
        their projection, so ``input_norms`` are the trunk's)."""
        return self.backbone

    @property
    def num_classes(self) -> int:
        """0: the caption is the condition (``CaptionConditioned`` numbers a caption table's rows)."""
        return 0

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def context(self, text: Tensor, text_mask: Tensor) -> tuple[Tensor, Tensor]:
        """Caption → (context tokens (B, C, D), mask (B, C)); null rows become the learned null token."""
        c = self.config
        if text.shape[1] > c.text_len or text_mask.shape != text.shape[:2]:
            raise ValueError(
                f"caption of shape {tuple(text.shape)} with mask {tuple(text_mask.shape)} does not fit "
                f"(B, C <= {c.text_len}{'' if self.text_encoder is not None else f', E={c.text_dim}'})"
            )
        mask = text_mask.bool()
        if self.text_encoder is not None:
            if text.dtype != torch.long:
                raise ValueError(f"this model encodes caption ids itself: give int64 ids (B, C), got {text.dtype}")
            emb = self.text_encoder(text, mask)  # (B, C, E)
        else:
            if not text.is_floating_point() or text.ndim != 3 or text.shape[-1] != c.text_dim:
                raise ValueError(
                    f"this model takes frozen-encoder embeddings (B, C, {c.text_dim}), got {tuple(text.shape)} "
                    f"{text.dtype}"
                )
            emb = text
        ctx = self.text_proj(self.text_norm(emb.float())) + self.text_pos[: text.shape[1]]  # (B, C, D)
        null = ~mask.any(1)  # (B,)
        if bool(null.any()):
            null_row = torch.zeros_like(ctx[0])
            null_row[0] = self.null_text
            ctx = torch.where(null[:, None, None], null_row[None], ctx)
            first = torch.zeros_like(mask[0])
            first[0] = True
            mask = torch.where(null[:, None], first[None], mask)
        return ctx, mask

    def forward(self, x: Tensor, t: Tensor | None, text: Tensor, text_mask: Tensor) -> Tensor:
        ctx, mask = self.context(text, text_mask)
        return self.backbone(x, t, None, ctx, mask)


class CaptionConditioned(TrunkWrapper):
    """A text model bound to a table of captions, seen by samplers and the trainer as class-conditional.

    ``text`` (N, C) ids or (N, C, E) embeddings and ``mask`` (N, C) hold N captions; class i is
    caption i and the null label N is the null caption. The table is not part of the state dict
    (``state_dict()`` holds the wrapped model's weights under ``model.``).
    """

    text: Tensor
    mask: Tensor

    def __init__(self, model: TextTransformer, text: Tensor, mask: Tensor) -> None:
        super().__init__()
        if text.shape[0] != mask.shape[0] or text.shape[0] < 1:
            raise ValueError(
                f"a caption table needs >= 1 captions and one mask row each, got {tuple(text.shape)} "
                f"and {tuple(mask.shape)}"
            )
        self.model = model
        self.register_buffer("text", text, persistent=False)
        self.register_buffer("mask", mask.bool(), persistent=False)

    def bind(self, text: Tensor, mask: Tensor) -> CaptionConditioned:
        """The same model (shared weights) over another caption table."""
        dev = self.text.device
        return CaptionConditioned(self.model, text.to(dev), mask.to(dev))

    @property
    def config(self) -> TextTransformerConfig:
        return self.model.config

    @property
    def trunk(self) -> TextTransformer:
        """The bound ``TextTransformer``."""
        return self.model

    @property
    def num_classes(self) -> int:
        """The captions of the table (class i is caption i; the null label is their number)."""
        return int(self.text.shape[0])

    def num_parameters(self) -> int:
        return self.model.num_parameters()

    def forward(self, x: Tensor, t: Tensor | None = None, labels: Tensor | None = None) -> Tensor:
        n = self.num_classes
        b = x.shape[0]
        if labels is None:
            labels = torch.full((b,), n, dtype=torch.long, device=x.device)
        labels = labels.long().reshape(-1)
        if labels.shape[0] != b:
            raise ValueError(f"{labels.shape[0]} caption indices for {b} samples")
        bad = (labels < 0) | (labels > n)
        if bool(bad.any()):
            raise ValueError(f"caption index {int(labels[bad][0])} outside [0, {n}] ({n} = the null caption)")
        real = labels < n
        idx = labels.clamp_max(n - 1)
        text = self.text[idx]
        mask = self.mask[idx] & real[:, None]
        return self.model(x, t, text, mask)
