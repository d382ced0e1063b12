"""Run configuration: dataclasses, named YAML presets and ``section.key=value`` overrides.

A run is described by one ``Config``. Presets are YAML files in ``unmask/configs/``
(``unmask train digits-etm``) or any YAML path; they hold a partial mapping
``{section: {key: value}}`` applied over the dataclass defaults. Overrides on the
command line use dotted keys (``train.steps=500 model.timestep=true``); values are
parsed as YAML scalars. Unknown sections or keys and values of the wrong type are
errors that name the offending key. The resolved config (every value concrete) is
what runs save as JSON next to their checkpoints.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import UserError
from .models import (
    MODEL_PRESETS,
    VIDEO_PRESETS,
    MultiStreamConfig,
    StreamConfig,
    TransformerConfig,
    VideoTransformerConfig,
    model_preset,
    video_preset,
)
from .models.initialization import INITS, LEGACY_INIT, check_init
from .tokenizers.vqvae import VQVAEConfig

__all__ = [
    "Config",
    "DataConfig",
    "ModelConfig",
    "PathConfig",
    "LossConfig",
    "OptimConfig",
    "TrainConfig",
    "SampleConfig",
    "ConfigError",
    "load_config",
    "preset_names",
    "apply_overrides",
    "DEFAULT_PRESET",
    "TokenizerRunConfig",
    "TokenizerDataConfig",
    "TokenizerTrainConfig",
    "load_tokenizer_config",
    "tokenizer_preset_names",
]

DEFAULT_PRESET = "digits"


class ConfigError(UserError):
    """A bad preset, key or value."""


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
    init: str = "balanced"
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
        from .interpolants import parse_stream_values

        given: dict[str, float] = {}
        if self.patches:
            try:
                given = parse_stream_values(self.patches, "model.patches")
            except ValueError as err:
                raise ConfigError(str(err)) from None
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
        base = self.trunk_fields(("dim", "depth", "heads", "mlp_ratio"))
        base.pop("patch")
        patches = self.stream_patches(grids)
        try:
            return MultiStreamConfig(
                streams=tuple(
                    StreamConfig(name, vocab_sizes[name], grids[name], patches[name], self.token_dim) for name in grids
                ),
                num_classes=0,
                timestep=self.timestep,
                separate_times=separate_times,
                skip=self.skip,
                dropout=self.dropout,
                init=self.init,
                embed_std=self.embed_std,
                pos_scale=self.pos_scale,
                **base,
            )
        except ValueError as err:
            raise ConfigError(f"model: {err}") from None

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

    def video_backbone(self, vocab_size: int, grid: tuple[int, ...], num_classes: int) -> VideoTransformerConfig:
        """The ``VideoTransformerConfig`` for token videos of this vocabulary, grid (T, H, W) and classes."""
        base = self.trunk_fields()
        try:
            return VideoTransformerConfig(
                vocab_size=vocab_size,
                grid=tuple(grid),
                num_classes=num_classes if self.class_conditional else 0,
                timestep=self.timestep,
                skip=self.skip,
                dropout=self.dropout,
                token_dim=self.token_dim,
                init=self.init,
                embed_std=self.embed_std,
                pos_scale=self.pos_scale,
                **base,
            )
        except ValueError as err:
            raise ConfigError(f"model: {err}") from None

    def backbone(self, vocab_size: int, grid: tuple[int, ...], num_classes: int) -> TransformerConfig:
        """The ``TransformerConfig`` for data of this vocabulary / grid / classes.

        ``subtokens`` = ℓ > 1 makes an MDM-Prime model (ℓ base-b sub-tokens per token);
        ``causal`` an autoregressive one.
        """
        from .prime import SubTokenCodec

        base = self.trunk_fields()
        prime: dict[str, int] = {}
        if self.subtokens > 1:
            try:
                codec = SubTokenCodec(vocab_size - 1, self.subtokens)
            except ValueError as err:
                raise ConfigError(f"model.subtokens={self.subtokens}: {err}") from None
            prime = {"subtokens": codec.length, "subtoken_vocab": codec.subtoken_vocab}
        return TransformerConfig(
            vocab_size=vocab_size,
            grid=tuple(grid),
            num_classes=num_classes if self.class_conditional else 0,
            timestep=self.timestep,
            skip=self.skip,
            dropout=self.dropout,
            token_dim=self.token_dim,
            causal=self.causal,
            init=self.init,
            embed_std=self.embed_std,
            pos_scale=self.pos_scale,
            **prime,
            **base,
        )


def _stream_values(text: str | None, what: str) -> dict[str, float]:
    """A "name:number,…" option parsed ({} when unset); ``ConfigError`` naming a bad item."""
    from .interpolants import parse_stream_values

    if not text:
        return {}
    try:
        return parse_stream_values(text, what)
    except ValueError as err:
        raise ConfigError(str(err)) from None


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
    timesteps: str = "separate"
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
        if self.schedule == "cubic":
            return {"name": "cubic", "a": self.cubic_a, "b": self.cubic_b}
        return {"name": self.schedule}


@dataclass
class LossConfig:
    """Masked / weighted cross-entropy (Eq. 3, 10) and the training-time draw of t.

    ``stream_weighting`` (multi-stream datasets): "equal" (each stream's masked mean,
    summed) or "tokens" (one masked mean over all streams' tokens, Eq. 4);
    ``stream_weights`` ("mask:4") scales a stream's term (default 1 each).
    """

    weighting: str = "constant"
    masked: bool = True
    reduction: str = "masked_mean"
    eps: float = 1e-3
    stratified: bool = False
    stream_weighting: str = "equal"
    stream_weights: str | None = None

    def stream_loss_weights(self) -> dict[str, float]:
        """``stream_weights`` parsed ({} when unset)."""
        return _stream_values(self.stream_weights, "loss.stream_weights")


@dataclass
class OptimConfig:
    """AdamW with linear warm-up, optional cosine decay, gradient clipping and EMA."""

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.99
    weight_decay: float = 0.0
    warmup_steps: int = 200
    lr_schedule: str = "constant"
    min_lr_ratio: float = 0.1
    grad_clip: float = 2.0
    ema_decay: float = 0.999


@dataclass
class TrainConfig:
    """The loop: length, batch, seed, condition dropout, precision, logging and checkpoints.

    ``batch_size`` is the global batch of one optimiser step: under torchrun each of the
    W processes takes batch_size / W rows, in ``grad_accum`` micro-batches of
    batch_size / (W · grad_accum); the result does not depend on W or grad_accum.
    ``compile`` runs the model through ``torch.compile`` (eager if that fails).

    ``until_plateau`` stops the run early once its held-out loss (evaluated at every checkpoint)
    improved by less than ``plateau_tol`` over the last ``plateau_window`` of its steps, not
    before ``plateau_min_steps`` (``unmask.training.plateau``); ``steps`` is then the cap (and
    the span of the cosine learning-rate decay). ``max_minutes`` (> 0) stops a call of ``train``
    after that much wall-clock time, with a checkpoint (resume to go on). The run records why it
    stopped.
    """

    steps: int = 2000
    batch_size: int = 128
    seed: int = 0
    p_uncond: float = 0.1
    precision: str = "auto"
    log_every: int = 50
    ckpt_every: int = 1000
    keep_checkpoints: int = 2
    eval_batches: int = 4
    threads: int = 0
    device: str = "auto"
    workers: int = 0
    grad_accum: int = 1
    compile: bool = False
    until_plateau: bool = False
    plateau_tol: float = 0.01
    plateau_window: float = 0.25
    plateau_min_steps: int = 0
    max_minutes: float = 0.0


@dataclass
class SampleConfig:
    """Default sampling settings for checkpoint grids and ``unmask sample``.

    ``sampler`` None draws with the sampler that fits the model (Euler for masked models);
    ``gumbel`` and ``gumbel_temperature`` (None = MaskGIT's defaults) apply to ``sampler: maskgit``.
    A run's ``sampling.json`` (``unmask sweep --best``) takes precedence in ``unmask sample``.
    """

    sampler: str | None = None
    gumbel: str | None = None
    gumbel_temperature: float | None = None
    steps: int = 64
    schedule: str | None = None
    update: str = "exact"
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    cfg: float = 1.0
    final_argmax: bool = True
    per_class: int = 10
    weights: str = "ema"


@dataclass
class Config:
    """Everything that defines a run."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    path: PathConfig = field(default_factory=PathConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    sample: SampleConfig = field(default_factory=SampleConfig)
    preset: str = DEFAULT_PRESET

    # -- (de)serialisation ------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        """Strictly rebuild a config: unknown keys and wrong types are errors.

        A config saved before ``model.init`` existed was U-ViT-initialised: it reads as ``init="uvit"``.
        """
        model = data.get("model")
        if isinstance(model, dict) and "init" not in model:
            data = {**data, "model": {**model, "init": LEGACY_INIT}}
        cfg = cls()
        _merge(cfg, data, where="config")
        return cfg

    def validate(self) -> Config:
        """Check choices that are not just types (names, ranges); returns self."""
        from ._checks import check_nonnegative, check_positive, check_probability
        from .data import DATASET_OPTIONS, dataset_names, is_stream_dataset, is_text_dataset, is_video_dataset
        from .interpolants import TIMESTEPS
        from .losses import REDUCTIONS, STREAM_WEIGHTINGS, WEIGHTINGS
        from .samplers import UPDATES
        from .schedules import get_schedule
        from .tokenizers import TEXT_TOKENIZERS

        if self.data.shards is None:
            _choice("data.name", self.data.name, dataset_names())
            if self.data.tokenizer is not None and not is_text_dataset(self.data.name):
                raise ConfigError(
                    f"data.tokenizer={self.data.tokenizer!r} needs data.shards (pre-tokenise with unmask tokenize); "
                    "in-memory image datasets use pixel tokens (data.levels)"
                )
            for key, value in self.data.options().items():
                if value is not None and key not in DATASET_OPTIONS[self.data.name]:
                    takes = ", ".join(f"data.{o}" for o in DATASET_OPTIONS[self.data.name])
                    raise ConfigError(f"data.{key} does not apply to dataset {self.data.name!r} (it takes {takes})")
            if self.data.tokenizer is not None:
                _choice("data.tokenizer", self.data.tokenizer, TEXT_TOKENIZERS)
            if self.data.seq_len is not None and self.data.seq_len < 2:
                raise ConfigError(f"data.seq_len must be >= 2, got {self.data.seq_len}")
        else:
            if self.data.shards == "":
                raise ConfigError("data.shards must be a directory, got ''")
            if not self.data.tokenizer:
                raise ConfigError(
                    f"data.shards={self.data.shards!r} needs data.tokenizer: the tokenizer the model is meant to "
                    "use (the shards are refused if another one made them)"
                )
            for key in ("levels", "seq_len"):
                if getattr(self.data, key) is not None:
                    raise ConfigError(
                        f"data.{key}={getattr(self.data, key)} does not apply to shards (their tokenizer fixes "
                        "the vocabulary and their manifest the grid)"
                    )
            if not self.data.name:
                raise ConfigError("data.name must name the dataset the shards hold, got ''")
            if self.data.root is not None:
                raise ConfigError(f"data.root={self.data.root!r} does not apply to shards")
        _choice("path.timesteps", self.path.timesteps, TIMESTEPS)
        _choice("loss.stream_weighting", self.loss.stream_weighting, STREAM_WEIGHTINGS)
        _range("path.clean_stream_prob", self.path.clean_stream_prob, 0, 1)
        _range("path.null_stream_prob", self.path.null_stream_prob, 0, 1)
        if self.path.clean_stream_prob + self.path.null_stream_prob > 1:
            raise ConfigError(
                f"path.clean_stream_prob + path.null_stream_prob must be <= 1, got {self.path.clean_stream_prob} + "
                f"{self.path.null_stream_prob}"
            )
        # the values of the per-stream options (the stream names are checked against the data when training)
        for key, values, what, check in (
            ("path.fixed_times", self.path.stream_times(), "fixed time", check_probability),
            ("path.time_powers", self.path.stream_time_powers(), "time power", check_positive),
            ("path.clean_stream_weights", self.path.stream_clean_weights(), "clean weight", check_nonnegative),
            ("loss.stream_weights", self.loss.stream_loss_weights(), "loss weight", check_nonnegative),
        ):
            for name, value in values.items():
                try:
                    check(value, f"{what} of stream {name!r}")
                except ValueError as err:
                    raise ConfigError(f"{key}: {err}") from None
        streams = self.data.shards is None and is_stream_dataset(self.data.name)
        if streams and self.model.timestep and self.path.timesteps == "shared":
            for key, value, default in (
                ("path.clean_stream_prob", self.path.clean_stream_prob, 0.0),
                ("path.clean_stream_weights", self.path.clean_stream_weights, None),
                ("path.null_stream_prob", self.path.null_stream_prob, 0.0),
                ("path.fixed_times", self.path.fixed_times, None),
                ("path.time_powers", self.path.time_powers, None),
            ):
                if value != default:
                    raise ConfigError(
                        f"{key}={value!r} gives streams different times, but an explicit-timestep model with "
                        "path.timesteps=shared has one time for all streams; use path.timesteps=separate"
                    )
        if streams and self.path.clean_stream_weights is not None and self.path.clean_stream_prob == 0:
            raise ConfigError(
                f"path.clean_stream_weights={self.path.clean_stream_weights!r} chooses the clean stream, but "
                "path.clean_stream_prob is 0: no stream is ever held clean"
            )
        if streams:
            for key, bad in (
                ("model.subtokens", self.model.subtokens != 1),
                ("model.causal", self.model.causal),
                ("path.smoothing", self.path.smoothing != 0),
                ("path.coupling_ratio", self.path.coupling_ratio != 0),
                ("loss.masked", not self.loss.masked),
                ("loss.reduction", self.loss.reduction != "masked_mean"),
            ):
                if bad:
                    raise ConfigError(
                        f"{key}={getattr(getattr(self, key.split('.')[0]), key.split('.')[1])!r} is not supported "
                        f"for the multi-stream dataset {self.data.name!r}"
                    )
        else:
            stream_only: tuple[tuple[str, object, object], ...] = (
                ("path.clean_stream_prob", self.path.clean_stream_prob, 0.0),
                ("path.clean_stream_weights", self.path.clean_stream_weights, None),
                ("path.null_stream_prob", self.path.null_stream_prob, 0.0),
                ("path.fixed_times", self.path.fixed_times, None),
                ("path.time_powers", self.path.time_powers, None),
                ("model.patches", self.model.patches, None),
                ("loss.stream_weighting", self.loss.stream_weighting, "equal"),
                ("loss.stream_weights", self.loss.stream_weights, None),
                ("path.timesteps", self.path.timesteps, "separate"),
            )
            for key, given, unset in stream_only:
                if given != unset:
                    raise ConfigError(
                        f"{key}={given!r} applies to multi-stream datasets only; {self.data.name!r} has one token grid"
                    )
        from .data import is_caption_dataset

        if self.model.text_encoder is not None:
            from .text_encoders import TEXT_ENCODERS

            enc = self.model.text_encoder
            if not (enc in ("scratch", "minilm") or (enc.startswith("clip:") and len(enc) > 5)):
                raise ConfigError(f"model.text_encoder={enc!r} is not one of {', '.join(TEXT_ENCODERS)}")
            if self.data.shards is not None or not is_caption_dataset(self.data.name):
                raise ConfigError(
                    f"model.text_encoder={enc!r} needs a captioned dataset (scenes, fashion-mnist-captions, "
                    f"caption-pairs with data.root), got data.name={self.data.name!r}"
                )
            if self.model.subtokens != 1 or self.model.causal:
                raise ConfigError(
                    "model.text_encoder takes plain masked tokens (model.subtokens=1, model.causal=false)"
                )
            for key in ("text_len", "text_dim", "text_depth", "text_heads"):
                low = 0 if key == "text_depth" else 1
                if getattr(self.model, key) < low:
                    raise ConfigError(f"model.{key} must be >= {low}, got {getattr(self.model, key)}")
            if self.model.text_dim % self.model.text_heads:
                raise ConfigError(
                    f"model.text_heads ({self.model.text_heads}) must divide model.text_dim ({self.model.text_dim})"
                )
        elif self.data.name == "caption-pairs" and self.model.class_conditional and self.data.shards is None:
            raise ConfigError(
                "data.name='caption-pairs' has a caption table per split, so caption ids are not classes shared by "
                "train and test: set model.text_encoder (scratch, minilm, clip:FOLDER) or model.class_conditional=false"
            )
        video = self.data.shards is None and is_video_dataset(self.data.name)
        if video:
            for key, bad in (
                ("model.subtokens", self.model.subtokens != 1),
                ("model.causal", self.model.causal),
            ):
                if bad:
                    raise ConfigError(
                        f"{key}={getattr(self.model, key.split('.')[1])!r} is not supported for the video dataset "
                        f"{self.data.name!r} (the video backbone takes plain masked tokens)"
                    )
            if self.model.size in MODEL_PRESETS:
                raise ConfigError(
                    f"model.size={self.model.size!r} is an image size; the video dataset {self.data.name!r} takes "
                    f"a video size: {', '.join(sorted(VIDEO_PRESETS))}"
                )
        elif self.path.prefix_prob != 0:
            raise ConfigError(
                f"path.prefix_prob={self.path.prefix_prob} applies to video datasets only; {self.data.name!r} "
                "holds no clips"
            )
        elif self.model.size in VIDEO_PRESETS:
            raise ConfigError(
                f"model.size={self.model.size!r} is a video size, but {self.data.name!r} is not a video dataset; "
                f"choose one of {', '.join(sorted(MODEL_PRESETS))}"
            )
        if self.model.subtokens < 1:
            raise ConfigError(f"model.subtokens (ℓ) must be >= 1 (1 = plain masked tokens), got {self.model.subtokens}")
        if self.model.causal:
            if self.model.subtokens != 1:
                raise ConfigError(f"model.causal=true takes plain tokens; got model.subtokens={self.model.subtokens}")
            if self.model.timestep:
                raise ConfigError("model.causal=true has no time input; set model.timestep=false")
            patch = self.model.patch if self.model.patch is not None else model_preset(self.model.size)["patch"]
            if patch != 1:
                raise ConfigError(f"model.causal=true needs model.patch=1, got {patch} (set model.patch=1)")
        _choice("model.size", self.model.size, sorted(MODEL_PRESETS) + sorted(VIDEO_PRESETS))
        _choice("model.init", self.model.init, INITS)
        try:
            check_init(self.model.init, self.model.embed_std, self.model.pos_scale)
        except ValueError as err:
            raise ConfigError(f"model: {err}") from None
        for key, value in self.model.size_fields().items():
            if getattr(self.model, key) is None:
                setattr(self.model, key, value)
        try:
            get_schedule(self.path.schedule_spec())
            if self.sample.schedule is not None:
                get_schedule(self.sample.schedule)
        except ValueError as err:
            raise ConfigError(str(err)) from None
        _choice("loss.weighting", self.loss.weighting, WEIGHTINGS)
        _choice("loss.reduction", self.loss.reduction, REDUCTIONS)
        _choice("optim.lr_schedule", self.optim.lr_schedule, ("constant", "cosine"))
        _choice("train.precision", self.train.precision, ("auto", "fp32", "bf16"))
        _choice("sample.update", self.sample.update, UPDATES)
        if self.sample.sampler is not None:
            _choice("sample.sampler", self.sample.sampler, ("euler", "maskgit", "prime", "autoregressive"))
        if self.sample.gumbel is not None:
            _choice("sample.gumbel", self.sample.gumbel, ("linear", "warmup", "none"))
        if self.sample.gumbel_temperature is not None and not self.sample.gumbel_temperature >= 0:
            raise ConfigError(f"sample.gumbel_temperature must be >= 0, got {self.sample.gumbel_temperature}")
        if (self.sample.gumbel is not None or self.sample.gumbel_temperature is not None) and (
            self.sample.sampler != "maskgit"
        ):
            raise ConfigError("sample.gumbel and sample.gumbel_temperature apply to sample.sampler=maskgit")
        _choice("sample.weights", self.sample.weights, ("ema", "raw"))
        _range("path.smoothing", self.path.smoothing, 0, 1)
        _range("path.coupling_ratio", self.path.coupling_ratio, 0, 1, high_open=True)
        _range("path.prefix_prob", self.path.prefix_prob, 0, 1)
        _range("loss.eps", self.loss.eps, 0, 0.5, high_open=True)
        _range("train.p_uncond", self.train.p_uncond, 0, 1)
        _range("optim.ema_decay", self.optim.ema_decay, 0, 1)
        _range("optim.min_lr_ratio", self.optim.min_lr_ratio, 0, 1)
        for key, value in (
            ("train.steps", self.train.steps),
            ("train.batch_size", self.train.batch_size),
            ("train.log_every", self.train.log_every),
            ("train.ckpt_every", self.train.ckpt_every),
            ("train.keep_checkpoints", self.train.keep_checkpoints),
            ("train.grad_accum", self.train.grad_accum),
            ("sample.steps", self.sample.steps),
        ):
            if value < 1:
                raise ConfigError(f"{key} must be >= 1, got {value}")
        for key, value in (
            ("optim.warmup_steps", self.optim.warmup_steps),
            ("train.eval_batches", self.train.eval_batches),
            ("train.workers", self.train.workers),
            ("train.plateau_min_steps", self.train.plateau_min_steps),
        ):
            if value < 0:
                raise ConfigError(f"{key} must be >= 0, got {value}")
        if not self.train.max_minutes >= 0:
            raise ConfigError(f"train.max_minutes must be >= 0 (0 = no limit), got {self.train.max_minutes}")
        if not self.train.plateau_tol >= 0:
            raise ConfigError(f"train.plateau_tol must be >= 0, got {self.train.plateau_tol}")
        _range("train.plateau_window", self.train.plateau_window, 0, 1, low_open=True, high_open=True)
        if self.train.until_plateau and self.train.eval_batches == 0:
            raise ConfigError("train.until_plateau=true needs the held-out loss: train.eval_batches must be >= 1")
        if not self.optim.lr > 0:
            raise ConfigError(f"optim.lr must be > 0, got {self.optim.lr}")
        if not self.optim.grad_clip > 0:
            raise ConfigError(f"optim.grad_clip must be > 0, got {self.optim.grad_clip}")
        if not self.sample.temperature > 0:
            raise ConfigError(f"sample.temperature must be > 0, got {self.sample.temperature}")
        _range("sample.top_p", self.sample.top_p, 0, 1, low_open=True)
        if self.sample.cfg < 0:
            raise ConfigError(f"sample.cfg must be >= 0, got {self.sample.cfg}")
        return self


def _choice(key: str, value: str, choices: Any) -> None:
    if value not in choices:
        raise ConfigError(f"{key}={value!r} is not one of {', '.join(map(str, choices))}")


def _range(key: str, value: float, lo: float, hi: float, *, low_open: bool = False, high_open: bool = False) -> None:
    ok = (value > lo if low_open else value >= lo) and (value < hi if high_open else value <= hi)
    if not ok:
        lb, rb = ("(" if low_open else "["), (")" if high_open else "]")
        raise ConfigError(f"{key} must be in {lb}{lo}, {hi}{rb}, got {value}")


# -- typed merging -------------------------------------------------------------------------


def _coerce(key: str, value: Any, annotation: Any) -> Any:
    """Check ``value`` against a field annotation (int, float, bool, str, Optional[...])."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(key, value, arg)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0])
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{key} must be an integer, got {value!r}")
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "3e-4" as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{key} must be a number, got {value!r}")
    if annotation is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key} must be a string, got {value!r}")
    raise ConfigError(f"{key}: unsupported field type {annotation}")  # pragma: no cover


def _merge(obj: Any, data: Any, where: str) -> None:
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a mapping, got {data!r}")
    hints = typing.get_type_hints(type(obj))
    names = {f.name for f in dataclasses.fields(obj)}
    for key, value in data.items():
        full = key if where == "config" else f"{where}.{key}"
        if key not in names:
            raise ConfigError(f"unknown config key {full!r}; valid keys here: {', '.join(sorted(names))}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            _merge(current, value, full)
        else:
            setattr(obj, key, _coerce(full, value, hints[key]))


def apply_overrides(cfg: Any, overrides: list[str]) -> Any:
    """Apply ``section.key=value`` strings (values parsed as YAML scalars) in order to a
    ``Config`` or a ``TokenizerRunConfig``; returns it."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not of the form section.key=value")
        key, raw = item.split("=", 1)
        key = key.strip()
        try:
            value = yaml.safe_load(raw) if raw.strip() != "" else ""
        except yaml.YAMLError:
            value = raw
        parts = key.split(".")
        if len(parts) != 2 or not all(parts):
            raise ConfigError(f"override key {key!r} must be section.key, e.g. train.steps")
        _merge(cfg, {parts[0]: {parts[1]: value}}, where="config")
    return cfg


def _preset_dir() -> Path:
    return Path(str(resources.files("unmask") / "configs"))


def preset_names() -> list[str]:
    """Names of the presets shipped in ``unmask/configs``."""
    return sorted(p.stem for p in _preset_dir().glob("*.yaml"))


def load_config(preset: str | None = None, overrides: list[str] | None = None) -> Config:
    """Defaults ← preset (name or YAML path) ← overrides, validated."""
    name = preset or DEFAULT_PRESET
    path = Path(name)
    if not (path.suffix in (".yaml", ".yml") and path.is_file()):
        path = _preset_dir() / f"{name}.yaml"
        if not path.is_file():
            raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(preset_names())} or give a YAML file")
    with open(path) as fh:
        data = yaml.safe_load(fh) or {}
    cfg = Config()
    _merge(cfg, data, where="config")
    cfg.preset = name
    apply_overrides(cfg, overrides or [])
    return cfg.validate()


# -- tokenizer (VQ-VAE) training ------------------------------------------------------------


@dataclass
class TokenizerDataConfig:
    """Images to train a tokenizer on: a registered dataset or an image folder (``image_size``
    then sets the side images are cropped and resized to; None = ``model.image_size``)."""

    name: str = "fashion-mnist"
    image_size: int | None = None


@dataclass
class TokenizerTrainConfig:
    """The VQ-VAE loop: Adam with warm-up (+ cosine), clipping, checkpoints, evaluation images."""

    steps: int = 1500
    batch_size: int = 128
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.99
    warmup_steps: int = 50
    lr_schedule: str = "cosine"
    min_lr_ratio: float = 0.1
    grad_clip: float = 1.0
    seed: int = 0
    log_every: int = 50
    ckpt_every: int = 500
    keep_checkpoints: int = 2
    eval_images: int = 2000
    threads: int = 0
    device: str = "auto"


@dataclass
class TokenizerRunConfig:
    """Everything that defines a ``unmask tokenizer train`` run."""

    data: TokenizerDataConfig = field(default_factory=TokenizerDataConfig)
    model: VQVAEConfig = field(default_factory=VQVAEConfig)
    train: TokenizerTrainConfig = field(default_factory=TokenizerTrainConfig)
    preset: str = "fmnist-vq"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenizerRunConfig:
        cfg = cls()
        _merge(cfg, data, where="config")
        return cfg.validate()

    def validate(self) -> TokenizerRunConfig:
        """Check ranges and the VQ-VAE shape; returns self."""
        try:
            VQVAEConfig(**dataclasses.asdict(self.model))
        except (ValueError, TypeError) as err:
            raise ConfigError(f"model: {err}") from None
        t = self.train
        for key, value in (
            ("train.steps", t.steps),
            ("train.batch_size", t.batch_size),
            ("train.log_every", t.log_every),
            ("train.ckpt_every", t.ckpt_every),
            ("train.keep_checkpoints", t.keep_checkpoints),
        ):
            if value < 1:
                raise ConfigError(f"{key} must be >= 1, got {value}")
        for key, value in (
            ("train.warmup_steps", t.warmup_steps),
            ("train.eval_images", t.eval_images),
            ("train.threads", t.threads),
        ):
            if value < 0:
                raise ConfigError(f"{key} must be >= 0, got {value}")
        if not t.lr > 0:
            raise ConfigError(f"train.lr must be > 0, got {t.lr}")
        if not t.grad_clip >= 0:
            raise ConfigError(f"train.grad_clip must be >= 0 (0 = off), got {t.grad_clip}")
        _choice("train.lr_schedule", t.lr_schedule, ("constant", "cosine"))
        _range("train.min_lr_ratio", t.min_lr_ratio, 0, 1)
        _range("train.beta1", t.beta1, 0, 1, high_open=True)
        _range("train.beta2", t.beta2, 0, 1, high_open=True)
        if not self.data.name:
            raise ConfigError("data.name must be a dataset name or an image folder, got ''")
        if self.data.image_size is not None and self.data.image_size < 1:
            raise ConfigError(f"data.image_size must be >= 1, got {self.data.image_size}")
        return self


def _tokenizer_preset_dir() -> Path:
    return _preset_dir() / "tokenizers"


def tokenizer_preset_names() -> list[str]:
    """Names of the tokenizer-training presets shipped in ``unmask/configs/tokenizers``."""
    return sorted(p.stem for p in _tokenizer_preset_dir().glob("*.yaml"))


def load_tokenizer_config(preset: str | None = None, overrides: list[str] | None = None) -> TokenizerRunConfig:
    """Defaults ← tokenizer preset (name or YAML path; default ``fmnist-vq``) ← overrides, validated."""
    name = preset or "fmnist-vq"
    path = Path(name)
    if not (path.suffix in (".yaml", ".yml") and path.is_file()):
        path = _tokenizer_preset_dir() / f"{name}.yaml"
        if not path.is_file():
            raise ConfigError(
                f"unknown tokenizer preset {name!r}; choose one of {', '.join(tokenizer_preset_names())} "
                "or give a YAML file"
            )
    with open(path) as fh:
        data = yaml.safe_load(fh) or {}
    cfg = TokenizerRunConfig()
    _merge(cfg, data, where="config")
    cfg.preset = name
    apply_overrides(cfg, overrides or [])
    return cfg.validate()
