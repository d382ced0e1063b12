"""A U-ViT-style transformer over several named token streams (image, segmentation, label, …).

Paper §3.4: to model the joint distribution of paired modalities, every stream's tokens
are fed to one network, which returns logits for each stream. Design:

* **One sequence.** [time tokens ; optional class token] + the patch tokens of every
  stream, in the configured stream order. The trunk (``build_blocks`` / ``run_blocks``)
  and the patchify of ``unmask.models.transformer`` are shared with the single-stream
  model; attention runs over all streams at once.
* **Per stream**: its own token embedding over its own vocabulary (the stream's
  [MASK] is its last id), its own patch size, its own fixed sin-cos positions plus a
  learned stream-type embedding (so two streams whose positions coincide are told
  apart), and its own head with V_s − 1 outputs: [MASK] never gets mass. The head is
  zero-initialised for streams of several tokens (generative per-position outputs); a
  one-token stream (a label) is a single-token readout and gets the normal init
  (``unmask.models.initialization``).
* **Fused canvases** (``fuse``, default). Streams of 2–3 axes whose patched grids are
  equal — a 32×32 image in 4×4 patches and its 16×16 mask in 2×2 patches — share
  sequence positions: their patch embeddings are added (the same function class as
  concatenating them and projecting) and each stream's head reads the shared positions.
  A mask patch is then predicted from the token that carries its own pixels, instead of
  from a separate token that must first learn, through attention, which image tokens lie
  under it; the sequence is also shorter. Measured on the shapes segmentation baseline:
  see docs/design.md. ``fuse=False`` gives every stream positions of its own.
* **One spatial frame.** Streams with the same number of axes are taken to cover one
  canvas: their positions are the sin-cos features of patch centres in a common frame
  (the largest patched grid among them), so a 4×4-patched 16×16 mask position sits
  between the 8×8-patched 32×32 image positions it covers. With each stream's own
  integer coordinates instead, mask patch (1, 1) would share its code with image patch
  (1, 1) — a different place — and attention would first have to learn the rescaling.
* **Time.** An explicit-timestep model (ETM) takes one time per stream
  (``separate_times=True``: one time token per stream, the shared time embedder plus
  that stream's type embedding) or one shared time (one time token). An
  implicit-timestep model (ITM) has no time token and ignores t.

``forward(x, t, labels)`` takes ``x``: {name: (B, *grid_s) ids in [0, V_s − 1]}, ``t``:
{name: (B,)} or one (B,) tensor for every stream (ETM; None for an ITM), ``labels``
as the single-stream model, and returns {name: (B, *grid_s, V_s − 1)} logits.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import cast

import torch
from torch import Tensor, nn

from .._checks import check_stream_batch
from .blocks import ConditionedModel, check_grid, check_trunk_of
from .embeddings import LabelEmbedder, TimestepEmbedder
from .initialization import check_init, grid_positions, init_backbone, input_norms
from .transformer import build_blocks, patchify, run_blocks, unpatchify

__all__ = ["StreamConfig", "MultiStreamConfig", "MultiStreamTransformer"]


@dataclass
class StreamConfig:
    """One token stream of a multi-stream model.

    Attributes:
        name: a Python identifier (it names the stream's parameters), e.g. "image".
        vocab_size: V_s, token ids including the stream's [MASK] (its last id), >= 2.
        grid: the stream's token grid, 1 to 3 axes (a class label is grid (1,)).
        patch: tokens per patch along every axis of this stream (must divide each axis).
        token_dim: width of one token's embedding before patch merging; 0 picks
            max(32, D / p^n) rounded up to a multiple of 8 (as ``TransformerConfig``).
    """

    name: str
    vocab_size: int
    grid: tuple[int, ...]
    patch: int = 1
    token_dim: int = 0

    def __post_init__(self) -> None:
        self.grid = tuple(int(g) for g in self.grid)
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"stream name must be a Python identifier, got {self.name!r}")
        if isinstance(self.vocab_size, bool) or not isinstance(self.vocab_size, int) or self.vocab_size < 2:
            raise ValueError(f"stream {self.name!r}: vocab_size must be an integer >= 2, got {self.vocab_size!r}")
        check_grid(self.grid, self.patch, f"stream {self.name!r}: ")
        if self.token_dim < 0:
            raise ValueError(f"stream {self.name!r}: token_dim must be >= 0, got {self.token_dim}")

    @property
    def num_positions(self) -> int:
        """Sequence positions of this stream after patchify."""
        return math.prod(g // self.patch for g in self.grid)

    def resolved_token_dim(self, dim: int) -> int:
        if self.token_dim > 0:
            return self.token_dim
        per = dim // self.patch ** len(self.grid)
        return max(32, (per + 7) // 8 * 8)


@dataclass
class MultiStreamConfig:
    """Shape of a multi-stream backbone.

    Attributes:
        streams: the streams, in sequence order (names unique).
        dim, depth, heads, mlp_ratio, skip, dropout: the trunk, as ``TransformerConfig``.
        num_classes: class labels for a class token (0 = none; the null label is
            ``num_classes``). A label that is itself generated is a stream, not this.
        timestep: True for an explicit-timestep model (takes t), False for an ITM.
        separate_times: with ``timestep``, one time (and time token) per stream;
            False: one shared time.
        fuse: streams of 2 or 3 axes whose patched grids are equal (an image with 4×4
            patches and its half-resolution mask with 2×2 patches) share sequence
            positions: their patch embeddings are added, and each stream's head reads the
            shared positions. False: every stream has positions of its own.
        init, embed_std, pos_scale: the initialisation scheme and its knobs, as ``TransformerConfig``
            (``unmask.models.initialization``).
    """

    streams: tuple[StreamConfig, ...]
    dim: int = 256
    depth: int = 8
    heads: int = 4
    mlp_ratio: float = 4.0
    num_classes: int = 0
    timestep: bool = False
    separate_times: bool = True
    skip: bool = True
    dropout: float = 0.0
    fuse: bool = True
    init: str = "balanced"
    embed_std: float | None = None
    pos_scale: float = 1.0
    kind: str = field(default="multistream")

    def __post_init__(self) -> None:
        self.streams = tuple(s if isinstance(s, StreamConfig) else StreamConfig(**s) for s in self.streams)
        if not self.streams:
            raise ValueError("a multi-stream model needs at least one stream, got none")
        names = [s.name for s in self.streams]
        if len(set(names)) != len(names):
            raise ValueError(f"stream names must be unique, got {names}")
        if self.kind != "multistream":
            raise ValueError(f"kind must be 'multistream', got {self.kind!r}")
        check_trunk_of(self)
        check_init(self.init, self.embed_std, self.pos_scale)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.streams)

    def stream(self, name: str) -> StreamConfig:
        for s in self.streams:
            if s.name == name:
                return s
        raise ValueError(f"unknown stream {name!r}; this model has {', '.join(self.names)}")

    def position_frames(self) -> dict[int, tuple[int, ...]]:
        """The common frame of the streams with n axes: per axis, the largest patched size among them.

        Streams with the same number of axes are taken to cover one canvas (an image and its
        class map), so their fixed positions are expressed in one frame (``sincos_positions``).
        """
        frames: dict[int, tuple[int, ...]] = {}
        for s in self.streams:
            patched = tuple(g // s.patch for g in s.grid)
            old = frames.get(len(patched), patched)
            frames[len(patched)] = tuple(max(a, b) for a, b in zip(old, patched, strict=True))
        return frames

    @property
    def num_time_tokens(self) -> int:
        if not self.timestep:
            return 0
        return len(self.streams) if self.separate_times else 1

    def groups(self) -> list[tuple[int, ...]]:
        """Indices of the streams sharing each block of sequence positions, in sequence order.

        With ``fuse``, streams of 2 or 3 axes with equal patched grids form one group (at the
        place of the first); every other stream is a group of its own.
        """
        out: list[list[int]] = []
        where: dict[tuple[int, ...], int] = {}
        for i, s in enumerate(self.streams):
            patched = tuple(g // s.patch for g in s.grid)
            if self.fuse and len(patched) >= 2 and patched in where:
                out[where[patched]].append(i)
                continue
            if self.fuse and len(patched) >= 2:
                where[patched] = len(out)
            out.append([i])
        return [tuple(g) for g in out]

    @property
    def num_positions(self) -> int:
        """Patch positions of all streams (without condition tokens); fused streams count once."""
        return sum(self.streams[g[0]].num_positions for g in self.groups())

    def to_dict(self) -> dict[str, object]:
        """Every field (what a checkpoint stores and rebuilds the model from), grids as lists."""
        d = asdict(self)
        for stream in d["streams"]:
            stream["grid"] = list(stream["grid"])
        return d


class _StreamIO(nn.Module):
    """A stream's input embedding, patch projection and logits head."""

    def __init__(self, s: StreamConfig, dim: int, extent: tuple[int, ...], init: str, pos_scale: float = 1.0) -> None:
        super().__init__()
        self.stream = s
        e = s.resolved_token_dim(dim)
        n_axes = len(s.grid)
        self.embed = nn.Embedding(s.vocab_size, e)
        self.patch_in = nn.Linear(s.patch**n_axes * e, dim)
        self.head = nn.Linear(dim, s.patch**n_axes * (s.vocab_size - 1))
        patched = tuple(g // s.patch for g in s.grid)
        self.pos: Tensor  # (N, D) the patch grid's sin-cos positions, a buffer
        self.register_buffer("pos", grid_positions(patched, dim, init, pos_scale, extent), persistent=False)

    @property
    def single_token(self) -> bool:
        """A stream of one token (a label): its head is a single-token readout."""
        return math.prod(self.stream.grid) == 1

    def content(self, x: Tensor) -> Tensor:
        """Token ids (B, *grid) → their content at the stream's positions (B, N, D), without positions."""
        return self.patch_in(patchify(self.embed(x), self.stream.grid, self.stream.patch))  # type: ignore[no-any-return]


class MultiStreamTransformer(ConditionedModel):
    """p_{1|t}(z_1 | z_t, t): logits over each stream's data tokens. See the module docstring."""

    def __init__(self, config: MultiStreamConfig) -> None:
        super().__init__()
        self.config = c = config
        frames = c.position_frames()
        self.io = nn.ModuleDict(
            {s.name: _StreamIO(s, c.dim, frames[len(s.grid)], c.init, c.pos_scale) for s in c.streams}
        )
        self.stream_type = nn.Parameter(torch.zeros(len(c.streams), c.dim))
        self.time_embed = TimestepEmbedder(c.dim) if c.timestep else None
        self.label_embed = LabelEmbedder(c.num_classes, c.dim) if c.num_classes > 0 else None
        self.num_prefix = c.num_time_tokens + int(c.num_classes > 0)
        self.in_blocks, self.mid_blocks, self.out_blocks = build_blocks(
            c.dim, c.depth, c.heads, c.mlp_ratio, c.dropout, c.skip
        )
        self.norm = nn.LayerNorm(c.dim)
        ios = [self.stream_io(s.name) for s in c.streams]
        # U-ViT zeroed every head; the balanced scheme keeps a single-token readout's normal init
        zero = [io.head for io in ios if c.init == "uvit" or not io.single_token]
        init_backbone(
            self,
            init=c.init,
            embed_std=c.embed_std,
            token_inputs=[(io.embed, io.patch_in, 1) for io in ios],
            generative_heads=zero,
        )
        nn.init.normal_(self.stream_type, std=0.02)

    def stream_io(self, name: str) -> _StreamIO:
        """Stream ``name``'s embedding, patch projection, head and positions."""
        return cast(_StreamIO, self.io[name])

    # -- what samplers, losses and the trainer rely on ---------------------------------
    @property
    def stream_names(self) -> tuple[str, ...]:
        return self.config.names

    @property
    def vocab_sizes(self) -> dict[str, int]:
        return {s.name: s.vocab_size for s in self.config.streams}

    @property
    def grids(self) -> dict[str, tuple[int, ...]]:
        return {s.name: s.grid for s in self.config.streams}

    def mask_id(self, name: str) -> int:
        """The [MASK] id of stream ``name`` (its last id)."""
        return self.config.stream(name).vocab_size - 1

    @property
    def subtokens(self) -> int:
        """Always 0: streams take plain tokens."""
        return 0

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def input_norms(self, n: int = 64, seed: int = 0) -> dict[str, dict[str, float]]:
        """Per stream, the sizes at the input (``unmask.models.initialization.input_norms``), measured
        on ``n`` samples of uniform data tokens."""
        gen = torch.Generator().manual_seed(seed)
        out = {}
        for s in self.config.streams:
            io = self.stream_io(s.name)
            x = torch.randint(0, s.vocab_size - 1, (n, *s.grid), generator=gen).to(io.pos.device)
            out[s.name] = input_norms(io.content, x, io.pos)
        return out

    # -- forward -------------------------------------------------------------------------
    def check_inputs(self, x: dict[str, Tensor]) -> int:
        """Raise ``ValueError`` unless ``x`` holds exactly this model's streams with their grids; returns B."""
        if not isinstance(x, dict):
            raise ValueError(f"a multi-stream model takes a dict of streams {list(self.stream_names)}, got {type(x)}")
        if set(x) != set(self.stream_names):
            raise ValueError(f"streams {sorted(x)} do not match the model's streams {sorted(self.stream_names)}")
        return check_stream_batch(
            {s.name: x[s.name] for s in self.config.streams}, {s.name: s.grid for s in self.config.streams}
        )

    def _times(self, t: dict[str, Tensor] | Tensor | None, b: int) -> list[Tensor]:
        """The (B,) times of the time tokens: one per stream or one shared."""
        c = self.config
        if t is None:
            raise ValueError("this explicit-timestep model needs t; got None")
        if isinstance(t, dict):
            if set(t) != set(self.stream_names):
                raise ValueError(
                    f"times for streams {sorted(t)} do not match the model's streams {sorted(self.stream_names)}"
                )
            if c.separate_times:
                return [t[s.name].reshape(b) for s in c.streams]
            first = t[c.streams[0].name].reshape(b)
            if any(not torch.equal(t[s.name].reshape(b), first) for s in c.streams):
                raise ValueError("this model has one shared time (separate_times=False) but the streams' times differ")
            return [first]
        tt = t.reshape(b)
        return [tt] * len(c.streams) if c.separate_times else [tt]

    def forward(
        self, x: dict[str, Tensor], t: dict[str, Tensor] | Tensor | None = None, labels: Tensor | None = None
    ) -> dict[str, Tensor]:
        c = self.config
        b = self.check_inputs(x)
        groups = c.groups()
        parts = []
        for group in groups:
            h_g = None
            for i in group:  # fused streams: patch embeddings added at shared positions
                s = c.streams[i]
                io = self.stream_io(s.name)
                e = io.content(x[s.name]) + self.stream_type[i]  # (B, N_s, D)
                h_g = e if h_g is None else h_g + e
            assert h_g is not None
            parts.append(h_g + self.stream_io(c.streams[group[0]].name).pos)  # (B, N_g, D)
        prefix = []
        if self.time_embed is not None:
            times = self._times(t, b)
            for i, ti in enumerate(times):
                tok = self.time_embed(ti)  # (B, D)
                if c.separate_times:
                    tok = tok + self.stream_type[i]
                prefix.append(tok[:, None])
        if self.label_embed is not None:
            if labels is None:
                labels = torch.full((b,), self.null_label, dtype=torch.long, device=parts[0].device)
            prefix.append(self.label_embed(labels)[:, None])
        elif labels is not None:
            raise ValueError("this model is unconditional (num_classes=0) but labels were given")
        h = torch.cat(prefix + parts, dim=1)  # (B, P + ΣN_s, D)
        h = run_blocks(h, self.in_blocks, self.mid_blocks, self.out_blocks)
        h = self.norm(h[:, self.num_prefix :])  # (B, ΣN_s, D)
        out: dict[str, Tensor] = {}
        start = 0
        for group in groups:
            n = c.streams[group[0]].num_positions
            for i in group:
                s = c.streams[i]
                head = self.stream_io(s.name).head
                out[s.name] = unpatchify(head(h[:, start : start + n]), s.grid, s.patch, s.vocab_size - 1)
            start += n
        return {s.name: out[s.name] for s in c.streams}
