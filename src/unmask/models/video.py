"""A Latte-style spatio-temporal transformer over token videos (paper §4.4, Table 5).

Latte (Ma et al. 2024) factorises attention over a clip: *spatial* blocks attend among the
patches of one frame, *temporal* blocks among the frames at one spatial position, and the
two alternate. The paper makes it discrete the same way as its image backbone: an index
embedding of token ids (with [MASK]) in, a logits head over data tokens out. This module
keeps the conventions of ``unmask.models.transformer``:

* ``forward(x, t, labels)`` with ``x`` (B, T, H, W) token ids in [0, K − 1] ([MASK] =
  K − 1), ``t`` (B,) in [0, 1] for an ETM (None / ignored for an ITM), ``labels`` (B,) in
  [0, C] (C = the null label) or None; returns logits (B, T, H, W, K − 1): [MASK] never
  gets mass. So every sampler, the trainer and the losses work unchanged.
* **Patchify per frame.** Each frame's p×p patches of token embeddings are concatenated
  and projected (``patchify`` of the image model); time is not patched, so every frame
  keeps its own positions and a clip is T × N positions, N = (H/p)(W/p).
* **Conditions in context.** The time token (ETM) and the class token (with a null slot
  for CFG) are prepended to *every frame's* spatial sequence, so the state is
  (B, T, P + N, D) with P condition tokens. A spatial block attends over the P + N tokens
  of one frame; a temporal block over the T frames at one of the P + N places (so the
  frames' copies of the condition tokens also talk to each other). An ITM without labels
  simply has P = 0, as in the image model.
* **Positions.** Fixed 2-D sin-cos positions of the patch grid are added to the patch
  tokens, fixed 1-D sin-cos positions of the frame index to every token of a frame
  (condition copies included, so temporal attention can tell frames apart).
* **Trunk.** ``depth`` blocks alternate spatial, temporal, spatial, … (Latte's variant 1,
  "interleaved"); ``depth`` must be even. With ``skip``, U-ViT long skips join the first
  ⌊pairs/2⌋ (spatial, temporal) pairs to the last ⌊pairs/2⌋, merged before the spatial
  block of the later pair (``build_blocks`` of the image model on the spatial blocks).
* Initialisation: ``unmask.models.initialization`` (the head zero, appendix C.1; under the
  default "balanced" scheme token content and the varying part of the space and time
  positions comparable at the input).
  Attention goes through ``F.scaled_dot_product_attention`` (the image model's ``Block``).

Factorisation is exact: without temporal blocks (see the tests), a frame's logits depend
only on that frame's tokens and the conditions; temporal blocks mix only tokens at the same
spatial place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from .blocks import GridModel, GridTrunkConfig
from .embeddings import LabelEmbedder, TimestepEmbedder
from .initialization import check_init, grid_positions, init_backbone, input_norms
from .transformer import Block, build_blocks, patchify, unpatchify

__all__ = ["VideoTransformerConfig", "VideoTransformer", "VIDEO_PRESETS", "video_preset"]

#: Named sizes of the video backbone: name → ``VideoTransformerConfig`` fields other than
#: vocab_size / grid / num_classes / timestep. ``depth`` counts spatial + temporal blocks.
VIDEO_PRESETS: dict[str, dict[str, float | int]] = {
    # For unit tests: a few thousand parameters.
    "video-tiny": {"dim": 32, "depth": 2, "heads": 2, "mlp_ratio": 2.0, "patch": 1},
    # 8 frames of 16×16 on a 2-core CPU: 2×2 patches, 8 × 64 positions.
    "video": {"dim": 128, "depth": 8, "heads": 4, "mlp_ratio": 4.0, "patch": 2},
    # Wider and deeper, for GPUs.
    "video-base": {"dim": 384, "depth": 12, "heads": 6, "mlp_ratio": 4.0, "patch": 2},
}


def video_preset(name: str) -> dict[str, float | int]:
    """The fields of video size ``name`` (a copy); ``ValueError`` naming the choices otherwise."""
    if name not in VIDEO_PRESETS:
        raise ValueError(f"unknown video model size {name!r}; choose one of {', '.join(sorted(VIDEO_PRESETS))}")
    return dict(VIDEO_PRESETS[name])


@dataclass
class VideoTransformerConfig(GridTrunkConfig):
    """Shape of a video backbone (its first fields are ``GridTrunkConfig``'s, with dim 128 and
    timestep False by default).

    Attributes:
        vocab_size: K, token ids including [MASK] (the last id).
        grid: (T, H, W): frames per clip and the token grid of one frame.
        patch: tokens per patch along H and W (must divide both); frames are not patched.
        dim: model width D.
        depth: transformer blocks in all, alternating spatial and temporal (even, ≥ 2).
        heads: attention heads (must divide ``dim``).
        mlp_ratio: MLP hidden width / D.
        token_dim: width of one token's embedding before patch merging; 0 picks
            max(32, D / p²) rounded to a multiple of 8.
        num_classes: class labels (0 = unconditional); the null label is ``num_classes``.
        timestep: True for an explicit-timestep model (ETM), False for an ITM.
        skip: U-ViT long skips between (spatial, temporal) pairs.
        dropout: dropout in attention and MLP.
        init, embed_std, pos_scale: the initialisation scheme and its knobs (space and time
            positions alike), as ``TransformerConfig`` (``unmask.models.initialization``).
        kind: always "video" (tells checkpoints which backbone they hold).
    """

    dim: int = 128
    timestep: bool = False
    init: str = "balanced"
    embed_std: float | None = None
    pos_scale: float = 1.0
    kind: str = field(default="video")

    def __post_init__(self) -> None:
        self.grid = tuple(int(g) for g in self.grid)
        if self.kind != "video":
            raise ValueError(f"kind must be 'video', got {self.kind!r}")
        if len(self.grid) != 3 or any(g < 1 for g in self.grid):
            raise ValueError(f"grid must be (frames, height, width) with positive entries, got {self.grid}")
        if self.patch < 1 or self.grid[1] % self.patch or self.grid[2] % self.patch:
            raise ValueError(f"patch {self.patch} must be >= 1 and divide the frame size {self.grid[1]}×{self.grid[2]}")
        if self.depth < 2 or self.depth % 2:
            raise ValueError(
                f"depth must be an even number >= 2 (spatial and temporal blocks alternate), got {self.depth}"
            )
        self.check_trunk()
        check_init(self.init, self.embed_std, self.pos_scale)

    @property
    def frames(self) -> int:
        """T, frames per clip."""
        return self.grid[0]

    @property
    def frame_grid(self) -> tuple[int, int]:
        """(H, W), the token grid of one frame."""
        return (self.grid[1], self.grid[2])

    @property
    def positions_per_frame(self) -> int:
        """N = (H / p)(W / p), patch positions of one frame."""
        return (self.grid[1] // self.patch) * (self.grid[2] // self.patch)

    @property
    def num_positions(self) -> int:
        """T · N, patch positions of a clip (without condition tokens)."""
        return self.frames * self.positions_per_frame

    @property
    def causal(self) -> bool:
        """Video models are never causal (the samplers and CLI ask)."""
        return False

    @property
    def subtokens(self) -> int:
        """Video models take plain tokens (no MDM-Prime sub-tokens)."""
        return 0

    @property
    def patched_axes(self) -> int:
        """2: patches merge tokens along H and W; frames are not patched."""
        return 2


class VideoTransformer(GridModel):
    """p_{1|t}(x_1 | x_t, t, c; θ) over token clips with factorised space / time attention.

    ``forward(x, t, labels)``: ``x`` (B, T, H, W) ids in [0, K − 1]; ``t`` (B,) in [0, 1]
    (ETM; ignored by an ITM); ``labels`` (B,) in [0, C] or None (= the null label; must be
    None for an unconditional model). Returns logits (B, T, H, W, K − 1).
    """

    pos_space: Tensor  # (N, D) fixed 2-D sin-cos positions of a frame's patches
    pos_time: Tensor  # (T, D) fixed 1-D sin-cos positions of the frames

    def __init__(self, config: VideoTransformerConfig) -> None:
        super().__init__()
        self.config = c = config
        e = c.resolved_token_dim
        frames, h, w = c.grid
        self.token_embed = nn.Embedding(c.vocab_size, e)
        self.patch_in = nn.Linear(c.patch**2 * e, c.dim)
        pos_space = grid_positions((h // c.patch, w // c.patch), c.dim, c.init, c.pos_scale)
        self.register_buffer("pos_space", pos_space, persistent=False)
        self.register_buffer("pos_time", grid_positions((frames,), c.dim, c.init, c.pos_scale), persistent=False)
        self.time_embed = TimestepEmbedder(c.dim) if c.timestep else None
        self.label_embed = LabelEmbedder(c.num_classes, c.dim) if c.num_classes > 0 else None
        self.num_prefix = int(c.timestep) + int(c.num_classes > 0)

        pairs = c.depth // 2
        # spatial blocks carry the U-ViT skips (in / mid / out, as the image trunk); temporal ones do not
        self.in_spatial, self.mid_spatial, self.out_spatial = build_blocks(
            c.dim, pairs, c.heads, c.mlp_ratio, c.dropout, c.skip
        )
        self.temporal = nn.ModuleList(Block(c.dim, c.heads, c.mlp_ratio, c.dropout, False) for _ in range(pairs))
        self.norm = nn.LayerNorm(c.dim)
        self.head = nn.Linear(c.dim, c.patch**2 * (c.vocab_size - 1))
        init_backbone(
            self,
            init=c.init,
            embed_std=c.embed_std,
            token_inputs=[(self.token_embed, self.patch_in, 1)],
            generative_heads=[self.head],
        )

    def content(self, x: Tensor) -> Tensor:
        """Token clips (B, T, H, W) → the content of every frame's patches (B, T·N, D), without positions."""
        c = self.config
        b, frames = x.shape[0], x.shape[1]
        emb = self.token_embed(x.reshape(b * frames, *c.frame_grid))  # (B·T, H, W, E)
        return self.patch_in(patchify(emb, c.frame_grid, c.patch)).reshape(b, -1, c.dim)  # type: ignore[no-any-return]

    def input_norms(self, n: int = 16, seed: int = 0) -> dict[str, dict[str, float]]:
        """{"tokens": sizes at the input} (``unmask.models.initialization.input_norms``) on ``n`` clips of
        uniform data tokens; a patch's position is its space position plus its frame's time position."""
        c = self.config
        gen = torch.Generator().manual_seed(seed)
        x = torch.randint(0, c.vocab_size - 1, (n, *c.grid), generator=gen).to(self.pos_space.device)
        pos = (self.pos_time[:, None] + self.pos_space[None]).reshape(-1, c.dim)  # (T·N, D)
        return {"tokens": input_norms(self.content, x, pos)}

    def spatial_blocks(self) -> list[Block]:
        """The spatial blocks in trunk order (pair i's spatial block is entry i)."""
        return [*self.in_spatial, *self.mid_spatial, *self.out_spatial]  # type: ignore[list-item]

    # -- attention over one axis ---------------------------------------------------------
    @staticmethod
    def _spatial(block: nn.Module, h: Tensor, skip: Tensor | None) -> Tensor:
        """A block over the tokens of each frame: (B, T, S, D) → (B, T, S, D)."""
        b, f, s, d = h.shape
        flat_skip = None if skip is None else skip.reshape(b * f, s, d)
        return block(h.reshape(b * f, s, d), flat_skip).reshape(b, f, s, d)  # type: ignore[no-any-return]

    @staticmethod
    def _temporal(block: nn.Module, h: Tensor) -> Tensor:
        """A block over the frames at each place: (B, T, S, D) → (B, T, S, D)."""
        b, f, s, d = h.shape
        y = block(h.transpose(1, 2).reshape(b * s, f, d))  # (B·S, T, D)
        return y.reshape(b, s, f, d).transpose(1, 2)  # type: ignore[no-any-return]

    def forward(self, x: Tensor, t: Tensor | None = None, labels: Tensor | None = None) -> Tensor:
        c = self.config
        frames, hh, ww = c.grid
        if tuple(x.shape[1:]) != c.grid:
            raise ValueError(
                f"token videos of shape {tuple(x.shape)} do not match the model's "
                f"(B, T, H, W) = (B, {frames}, {hh}, {ww})"
            )
        b = x.shape[0]
        h = self.content(x).reshape(b, frames, -1, c.dim) + self.pos_space  # (B, T, N, D)
        prefix = []
        if self.time_embed is not None:
            if t is None:
                raise ValueError("this explicit-timestep model needs t; got None")
            prefix.append(self.time_embed(t.reshape(b)))  # (B, D)
        if self.label_embed is not None:
            if labels is None:
                labels = torch.full((b,), self.null_label, dtype=torch.long, device=x.device)
            prefix.append(self.label_embed(labels))  # (B, D)
        elif labels is not None:
            raise ValueError("this model is unconditional (num_classes=0) but labels were given")
        if prefix:
            cond = torch.stack(prefix, dim=1)[:, None].expand(b, frames, len(prefix), c.dim)  # (B, T, P, D)
            h = torch.cat([cond, h], dim=2)  # (B, T, P + N, D)
        h = h + self.pos_time[None, :, None]  # every token of frame f gets frame f's position

        skips: list[Tensor] = []
        pair = 0
        for blk in self.in_spatial:
            h = self._temporal(self.temporal[pair], self._spatial(blk, h, None))
            skips.append(h)
            pair += 1
        for blk in self.mid_spatial:
            h = self._temporal(self.temporal[pair], self._spatial(blk, h, None))
            pair += 1
        for blk in self.out_spatial:
            h = self._temporal(self.temporal[pair], self._spatial(blk, h, skips.pop()))
            pair += 1

        h = self.norm(h[:, :, self.num_prefix :])  # (B, T, N, D)
        y = self.head(h).reshape(b * frames, -1, c.patch**2 * (c.vocab_size - 1))  # (B·T, N, p² (K − 1))
        out = unpatchify(y, c.frame_grid, c.patch, c.vocab_size - 1)  # (B·T, H, W, K − 1)
        return out.reshape(b, frames, hh, ww, c.vocab_size - 1)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
