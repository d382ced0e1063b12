"""The sections of a run config, as dataclasses: their fields, types and defaults.

Each field's annotation is what ``unmask.config.overrides`` checks a preset or override value
against. The rules that relate fields to each other or to the library's registries are in
``unmask.config.rules``; ``unmask.config.run.Config`` puts the sections together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..losses import Reduction, Weighting
from ..models import (
    VIDEO_PRESETS,
    MultiStreamConfig,
    StreamConfig,
    TransformerConfig,
    VideoTransformerConfig,
    model_preset,
    video_preset,
)
from .errors import ConfigError, library_check

__all__ = [
    "AdamConfig",
    "DataConfig",
    "GumbelMode",
    "Init",
    "LRSchedule",
    "LoopConfig",
    "LossConfig",
    "ModelConfig",
    "OptimConfig",
    "PathConfig",
    "Precision",
    "Reduction",
    "SampleConfig",
    "SamplerName",
    "StreamWeighting",
    "Timesteps",
    "TrainConfig",
    "Update",
    "Weighting",
    "Weights",
]

# The fixed choices of the config, checked when a value is merged (``unmask.config.overrides``).
# Where the library types a choice as a Literal, the config uses that type (the losses' Weighting
# and Reduction); the others below equal the tuple of the module that reads them (tests/config
# check they agree) or are the config's own. Open-ended names (datasets, model sizes, schedules,
# tokenizers, text encoders) are checked against their registries by ``unmask.config.rules``.
Init = Literal["balanced", "uvit"]  # unmask.models.initialization.INITS
Timesteps = Literal["separate", "shared"]  # unmask.interpolants.TIMESTEPS
StreamWeighting = Literal["equal", "tokens"]  # unmask.losses.STREAM_WEIGHTINGS
LRSchedule = Literal["constant", "cosine"]
Precision = Literal["auto", "fp32", "bf16"]
SamplerName = Literal["euler", "maskgit", "prime", "autoregressive"]  # unmask.samplers.SAMPLERS
GumbelMode = Literal["linear", "warmup", "none"]  # unmask.samplers.maskgit.GUMBEL_MODES
Update = Literal["exact", "euler"]  # unmask.samplers.UPDATES
Weights = Literal["ema", "raw"]


def _stream_values(text: str | None, what: str) -> dict[str, float]:
    """A "name:number,…" option parsed ({} when unset); ``ConfigError`` naming a bad item."""
    from ..interpolants import parse_stream_values

    if not text:
        return {}
    with library_check():
        return parse_stream_values(text, what)


@dataclass
class DataConfig:
    """Which dataset to train on (see ``unmask.data.dataset_names()``) and its options
    (None = the dataset's default; an option the dataset does not take is an error):
    ``levels`` grey-level tokens of image datasets, ``tokenizer`` ("bytes", "chars",
    "gpt2") and ``seq_len`` tokens per packed sequence of text datasets.

    ``shards`` trains on pre-tokenised shards (``unmask tokenize``) instead of an in-memory
    dataset; ``tokenizer`` must then name the tokenizer that made them (``pixel:L``, a
    VQ-VAE file or run directory, a VQModel folder) and ``name`` the dataset they hold.
    ``root`` is the folder of a dataset the user provides (``cityscapes``).

    ``shift`` (≥ 0, default 0 = off) augments training batches of in-memory image, paired and
    video data by random translations of up to ±``shift`` cells, edge-replicated at the border
    (``unmask.data.augment``); paired streams move together, in cells of their coarsest grid
    (a 16×16 mask by 1 = its 32×32 image by 2 pixels). Held-out evaluation is never shifted.

    Datasets of paired streams (``shapes``, ``shapes-labelled``, ``cityscapes``,
    ``digits-pairs``, ``fashion-mnist-pairs``) train a joint multi-stream model; datasets of token videos
    (``bouncing-shapes``, ``moving-fashion-mnist``, ``video-files`` with ``root``) the
    spatio-temporal video model.
    Captioned datasets (``scenes``, ``scenes-mini``, ``fashion-mnist-captions``,
    ``caption-pairs`` with ``root``) train a text-to-image model with ``model.text_encoder``,
    else a class-conditional model whose classes are the captions.
    """

    name: str = "digits"
    levels: int | None = None
    tokenizer: str | None = None
    seq_len: int | None = None
    shards: str | None = None
    root: str | None = None
    shift: int = 0

    def options(self) -> dict[str, Any]:
        """The options given to ``unmask.data.get_dataset`` (in-memory datasets)."""
        return {"levels": self.levels, "tokenizer": self.tokenizer, "seq_len": self.seq_len, "root": self.root}


@dataclass
class ModelConfig:
    """Backbone choice. ``size`` names a preset of ``unmask.models.MODEL_PRESETS`` (or, for
    video datasets, of ``unmask.models.VIDEO_PRESETS``); fields left at None take the
    preset's value.

    ``patches`` sets per-stream patch sizes of a multi-stream model ("image:4,mask:2");
    a stream not named takes ``patch`` if it divides every axis of its grid, else 1.

    ``init`` is the initialisation scheme of every backbone (token-grid, multi-stream, video,
    text-conditioned): "balanced" (default) or "uvit" (``unmask.models.initialization``);
    ``embed_std`` (None = the scheme's) and ``pos_scale`` are ablation knobs on top of it.
    A stored config without ``init`` (saved before the field existed) reads as "uvit".

    ``text_encoder`` ("scratch", "minilm", "clip:PATH"; caption datasets only) makes a
    text-to-image model conditioned on captions of at most ``text_len`` tokens (longer ones are
    truncated with a warning); ``class_conditional`` is then not used. ``text_dim``,
    ``text_depth`` and ``text_heads`` shape the encoder trained from scratch ("scratch").
    """

    size: str = "digits"
    dim: int | None = None
    depth: int | None = None
    heads: int | None = None
    mlp_ratio: float | None = None
    patch: int | None = None
    token_dim: int = 0
    timestep: bool = False
    skip: bool = True
    dropout: float = 0.0
    class_conditional: bool = True
    subtokens: int = 1
    causal: bool = False
    init: Init = "balanced"
    embed_std: float | None = None
    pos_scale: float = 1.0
    patches: str | None = None
    text_encoder: str | None = None
    text_len: int = 16
    text_dim: int = 128
    text_depth: int = 2
    text_heads: int = 2

    def stream_patches(self, grids: dict[str, tuple[int, ...]]) -> dict[str, int]:
        """Each stream's patch size (see the class docstring); ``ConfigError`` for an unknown stream."""
        given = _stream_values(self.patches, "model.patches")
        for name, value in given.items():
            if name not in grids:
                raise ConfigError(f"model.patches names stream {name!r}; the streams are {', '.join(grids)}")
            if value != int(value) or value < 1:
                raise ConfigError(f"model.patches: patch of stream {name!r} must be an integer >= 1, got {value}")
        patch = self.patch if self.patch is not None else model_preset(self.size)["patch"]
        out = {}
        for name, grid in grids.items():
            default = patch if all(g % patch == 0 for g in grid) else 1
            out[name] = int(given.get(name, default))
        return out

    def multistream_backbone(
        self, vocab_sizes: dict[str, int], grids: dict[str, tuple[int, ...]], separate_times: bool
    ) -> MultiStreamConfig:
        """The ``MultiStreamConfig`` for streams of these vocabularies and grids (in order)."""
        base = self.backbone_fields(("dim", "depth", "heads", "mlp_ratio"))
        base.pop("patch")
        patches = self.stream_patches(grids)
        with library_check("model: "):  # a stream's own checks (e.g. a patch that does not divide its grid) too
            streams = tuple(StreamConfig(n, vocab_sizes[n], grids[n], patches[n], self.token_dim) for n in grids)
            return MultiStreamConfig(streams=streams, num_classes=0, separate_times=separate_times, **base)

    def size_fields(self) -> dict[str, Any]:
        """The fields of ``size``, from the image sizes or the video sizes (whichever has it)."""
        return video_preset(self.size) if self.size in VIDEO_PRESETS else model_preset(self.size)

    def trunk_fields(self, keys: tuple[str, ...] = ("dim", "depth", "heads", "mlp_ratio", "patch")) -> dict[str, Any]:
        """The size's fields, those of ``keys`` set on this config (not None) overriding them."""
        base = self.size_fields()
        for key in keys:
            value = getattr(self, key)
            if value is not None:
                base[key] = value
        return base

    def backbone_fields(
        self, keys: tuple[str, ...] = ("dim", "depth", "heads", "mlp_ratio", "patch")
    ) -> dict[str, Any]:
        """What every backbone config takes from this one: ``trunk_fields(keys)``, the time input,
        skips, dropout and the initialisation."""
        return {
            **self.trunk_fields(keys),
            "timestep": self.timestep,
            "skip": self.skip,
            "dropout": self.dropout,
            "init": self.init,
            "embed_std": self.embed_std,
            "pos_scale": self.pos_scale,
        }

    def video_backbone(self, vocab_size: int, grid: tuple[int, ...], num_classes: int) -> VideoTransformerConfig:
        """The ``VideoTransformerConfig`` for token videos of this vocabulary, grid (T, H, W) and classes."""
        classes = num_classes if self.class_conditional else 0
        with library_check("model: "):
            return VideoTransformerConfig(
                vocab_size, tuple(grid), num_classes=classes, token_dim=self.token_dim, **self.backbone_fields()
            )

    def backbone(self, vocab_size: int, grid: tuple[int, ...], num_classes: int) -> TransformerConfig:
        """The ``TransformerConfig`` for data of this vocabulary / grid / classes.

        ``subtokens`` = ℓ > 1 makes an MDM-Prime model (ℓ base-b sub-tokens per token);
        ``causal`` an autoregressive one.
        """
        from ..prime import SubTokenCodec

        kwargs = self.backbone_fields()
        if self.subtokens > 1:
            with library_check(f"model.subtokens={self.subtokens}: "):
                codec = SubTokenCodec(vocab_size - 1, self.subtokens)
            kwargs.update(subtokens=codec.length, subtoken_vocab=codec.subtoken_vocab)
        classes = num_classes if self.class_conditional else 0
        with library_check("model: "):  # what depends on the data, e.g. a patch that does not divide the grid
            return TransformerConfig(
                vocab_size, tuple(grid), num_classes=classes, token_dim=self.token_dim, causal=self.causal, **kwargs
            )


@dataclass
class PathConfig:
    """The interpolant: schedule κ, smoothing s (Eq. 8) and conditional coupling (Eq. 6).

    Multi-stream datasets (see ``unmask.interpolants.MultiStreamInterpolant``):
    ``timesteps`` "separate" (a t per stream) or "shared"; ``clean_stream_prob`` /
    ``null_stream_prob``: the chance per sample that one stream is fully revealed / fully
    masked; ``clean_stream_weights`` ("image:8") the odds that the clean stream is this one
    (unlisted streams 1, default uniform); ``fixed_times`` pins streams to a time
    ("image:1,mask:0" is the discriminative objective image → mask); ``time_powers``
    ("mask:3") draws a stream's time as u^p, moving training effort towards that stream
    mostly masked (p > 1) or mostly revealed (p < 1).

    ``prefix_prob`` (video datasets): the chance per training clip that its first k frames
    (k uniform in 1 … T − 1) are held clean, so the model learns continuation.
    """

    schedule: str = "linear"
    cubic_a: float = 0.0
    cubic_b: float = 0.0
    smoothing: float = 0.0
    coupling_ratio: float = 0.0
    prefix_prob: float = 0.0
    timesteps: Timesteps = "separate"
    clean_stream_prob: float = 0.0
    clean_stream_weights: str | None = None
    null_stream_prob: float = 0.0
    fixed_times: str | None = None
    time_powers: str | None = None

    def stream_times(self) -> dict[str, float]:
        """``fixed_times`` parsed ({} when unset)."""
        return _stream_values(self.fixed_times, "path.fixed_times")

    def stream_clean_weights(self) -> dict[str, float]:
        """``clean_stream_weights`` parsed ({} when unset)."""
        return _stream_values(self.clean_stream_weights, "path.clean_stream_weights")

    def stream_time_powers(self) -> dict[str, float]:
        """``time_powers`` parsed ({} when unset)."""
        return _stream_values(self.time_powers, "path.time_powers")

    def schedule_spec(self) -> dict[str, Any]:
        """The training schedule as a spec for ``unmask.schedules.get_schedule`` (cubic takes a and b)."""
        if self.schedule == "cubic":
            return {"name": "cubic", "a": self.cubic_a, "b": self.cubic_b}
        return {"name": self.schedule}


@dataclass
class LossConfig:
    """Masked / weighted cross-entropy (Eq. 3, 10) and the training-time draw of t.

    ``stream_weighting`` (multi-stream datasets): "equal" (each stream's masked mean,
    summed) or "tokens" (one masked mean over all streams' tokens, Eq. 4);
    ``stream_weights`` ("mask:4") scales a stream's term (default 1 each).

    ``time_power`` p > 0 (single-grid data; multi-stream data have ``path.time_powers``) draws
    training times as ε + (1 − 2ε) u^p: p > 1 moves training effort towards mostly masked inputs
    (p = 2 puts half the draws below t = 0.25), where a condition matters most. Each time's optimum
    is unchanged, and the held-out loss keeps uniform t so runs stay comparable.
    """

    weighting: Weighting = "constant"
    masked: bool = True
    reduction: Reduction = "masked_mean"
    eps: float = 1e-3
    stratified: bool = False
    time_power: float = 1.0
    stream_weighting: StreamWeighting = "equal"
    stream_weights: str | None = None

    def stream_loss_weights(self) -> dict[str, float]:
        """``stream_weights`` parsed ({} when unset)."""
        return _stream_values(self.stream_weights, "loss.stream_weights")


@dataclass
class AdamConfig:
    """Adam with linear warm-up, optional cosine decay to ``min_lr_ratio`` and gradient clipping:
    the optimiser of a run (``OptimConfig``) and of a tokenizer run (``TokenizerTrainConfig``).

    ``decay_steps`` (cosine only): the step at which the decay reaches ``min_lr_ratio · lr``; 0 (the
    default) means the run's ``steps``. Past it the rate stays at the minimum. Resuming a finished
    run with a larger ``steps`` and ``decay_steps`` set to the old cap extends it by a constant tail at
    the minimum rate instead of stretching the cosine (a warm restart: the rate rises again)."""

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.99
    warmup_steps: int = 200
    lr_schedule: LRSchedule = "constant"
    min_lr_ratio: float = 0.1
    decay_steps: int = 0
    grad_clip: float = 2.0


@dataclass
class OptimConfig(AdamConfig):
    """AdamW (``AdamConfig`` with weight decay) and the EMA of the weights."""

    weight_decay: float = 0.0
    ema_decay: float = 0.999


@dataclass
class LoopConfig:
    """What every training loop has (runs and tokenizer runs): length, batch, seed, logging,
    checkpoints, CPU threads (0 = torch's default) and device."""

    steps: int = 2000
    batch_size: int = 128
    seed: int = 0
    log_every: int = 50
    ckpt_every: int = 1000
    keep_checkpoints: int = 2
    threads: int = 0
    device: str = "auto"


@dataclass
class TrainConfig(LoopConfig):
    """The loop: length, batch, seed, condition dropout, precision, logging and checkpoints.

    ``batch_size`` is the global batch of one optimiser step: under torchrun each of the
    W processes takes batch_size / W rows, in ``grad_accum`` micro-batches of
    batch_size / (W · grad_accum); the result does not depend on W or grad_accum.
    ``compile`` runs the model through ``torch.compile`` (eager if that fails).

    ``until_plateau`` stops the run early once its held-out loss (evaluated at every checkpoint)
    improved by less than ``plateau_tol`` over the last ``plateau_window`` of its steps, not
    before ``plateau_min_steps``, the loss at each end of the window the mean of ``plateau_smooth``
    evaluations (1: single evaluations, as every run before this option; ``unmask.training.plateau``);
    ``steps`` is then the cap (and the span of the cosine learning-rate decay). ``max_minutes``
    (> 0) stops a call of ``train`` after that much wall-clock time, with a checkpoint (resume to
    go on). The run records why it stopped.

    ``eval_split`` names the split the held-out loss is read on (``eval_batches`` batches at every
    checkpoint, and so the plateau rule): ``test`` by default; ``val`` where the dataset has one
    (``shapes``) keeps the test split unread until the final model is scored.
    """

    p_uncond: float = 0.1
    precision: Precision = "auto"
    eval_batches: int = 4
    eval_split: str = "test"
    workers: int = 0
    grad_accum: int = 1
    compile: bool = False
    until_plateau: bool = False
    plateau_tol: float = 0.01
    plateau_window: float = 0.25
    plateau_min_steps: int = 0
    plateau_smooth: int = 1
    max_minutes: float = 0.0


@dataclass
class SampleConfig:
    """Default sampling settings for checkpoint grids and ``unmask sample``.

    ``sampler`` None draws with the sampler that fits the model (Euler for masked models);
    ``gumbel`` and ``gumbel_temperature`` (None = MaskGIT's defaults) apply to ``sampler: maskgit``.
    A run's ``sampling.json`` (``unmask sweep --best``) takes precedence in ``unmask sample``.
    """

    sampler: SamplerName | None = None
    gumbel: GumbelMode | None = None
    gumbel_temperature: float | None = None
    steps: int = 64
    schedule: str | None = None
    update: Update = "exact"
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    cfg: float = 1.0
    final_argmax: bool = True
    per_class: int = 10
    weights: Weights = "ema"
