"""What a run config must satisfy beyond its types: one small check per concern, each rule once.

``check_config`` runs them in order: the data section, the model families a dataset makes
(multi-stream, text-to-image, video) and what each of them takes, the model, then the path,
loss, optimiser, loop and sampling sections. The checks read the config and change nothing;
filling derived values is ``Config.resolve``'s job. Every failure is a ``ConfigError`` naming the
key and the value. Fixed choices are not here: they are ``Literal`` fields of the schema, checked
when a value is merged. ``check_loop``, ``check_adam`` and ``check_at_least`` serve the tokenizer run
config too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._checks import check_nonnegative, check_positive, check_probability
from ..models import MODEL_PRESETS, VIDEO_PRESETS, model_preset
from ..models.blocks import check_trunk
from ..models.initialization import check_init
from .errors import ConfigError, library_check
from .schema import (
    AdamConfig,
    DataConfig,
    LoopConfig,
    LossConfig,
    ModelConfig,
    OptimConfig,
    PathConfig,
    SampleConfig,
    TrainConfig,
)

__all__ = [
    "check_config",
    "check_data",
    "check_streams",
    "check_text",
    "check_video",
    "check_model",
    "check_path",
    "check_loss",
    "check_optim",
    "check_train",
    "check_sample",
    "check_choice",
    "check_range",
    "check_at_least",
    "check_loop",
    "check_adam",
]


def check_choice(key: str, value: Any, choices: Iterable[Any]) -> None:
    """``ConfigError`` unless ``value`` is one of ``choices`` (a registry's names)."""
    choices = list(choices)
    if value not in choices:
        raise ConfigError(f"{key}={value!r} is not one of {', '.join(map(str, choices))}")


def check_range(
    key: str, value: float, lo: float, hi: float, *, low_open: bool = False, high_open: bool = False
) -> None:
    """``ConfigError`` unless ``lo <= value <= hi`` (either end open as asked; NaN fails)."""
    ok = (value > lo if low_open else value >= lo) and (value < hi if high_open else value <= hi)
    if not ok:
        lb, rb = ("(" if low_open else "["), (")" if high_open else "]")
        raise ConfigError(f"{key} must be in {lb}{lo}, {hi}{rb}, got {value}")


def check_at_least(low: int, section: object, where: str, names: Iterable[str]) -> None:
    """``ConfigError`` for the first field of ``names`` in ``section`` (keys ``where.name``) below ``low``."""
    for name in names:
        value = getattr(section, name)
        if value < low:
            raise ConfigError(f"{where}.{name} must be >= {low}, got {value}")


def check_config(
    data: DataConfig,
    model: ModelConfig,
    path: PathConfig,
    loss: LossConfig,
    optim: OptimConfig,
    train: TrainConfig,
    sample: SampleConfig,
) -> None:
    """Every rule of a run config, in order (see the module docstring)."""
    check_data(data)
    check_streams(data, model, path, loss)
    check_text(data, model)
    check_video(data, model, path)
    check_model(model)
    check_path(path)
    check_loss(loss)
    check_optim(optim)
    check_train(train)
    check_sample(sample)


# -- data ----------------------------------------------------------------------------------


def check_data(data: DataConfig) -> None:
    """An in-memory dataset and the options it takes, or token shards and the tokenizer that made them."""
    from ..data import DATASET_OPTIONS, dataset_names, is_text_dataset
    from ..tokenizers import TEXT_TOKENIZERS

    if data.shift < 0:
        raise ConfigError(f"data.shift must be >= 0, got {data.shift}")
    if data.shards is not None:
        if data.shift:
            raise ConfigError(f"data.shift={data.shift} applies to in-memory datasets only, not to data.shards")
        _check_shards(data)
        return
    check_choice("data.name", data.name, dataset_names())
    if data.shift and is_text_dataset(data.name):
        raise ConfigError(f"data.shift={data.shift} moves image grids; the text dataset {data.name!r} has none")
    if data.tokenizer is not None and not is_text_dataset(data.name):
        raise ConfigError(
            f"data.tokenizer={data.tokenizer!r} needs data.shards (pre-tokenise with unmask tokenize); "
            "in-memory image datasets use pixel tokens (data.levels)"
        )
    for key, value in data.options().items():
        if value is not None and key not in DATASET_OPTIONS[data.name]:
            takes = ", ".join(f"data.{o}" for o in DATASET_OPTIONS[data.name])
            raise ConfigError(f"data.{key} does not apply to dataset {data.name!r} (it takes {takes})")
    if data.tokenizer is not None:
        check_choice("data.tokenizer", data.tokenizer, TEXT_TOKENIZERS)
    if data.seq_len is not None and data.seq_len < 2:
        raise ConfigError(f"data.seq_len must be >= 2, got {data.seq_len}")


def _check_shards(data: DataConfig) -> None:
    """Shards name their dataset and tokenizer; the vocabulary and grid are theirs."""
    if data.shards == "":
        raise ConfigError("data.shards must be a directory, got ''")
    if not data.tokenizer:
        raise ConfigError(
            f"data.shards={data.shards!r} needs data.tokenizer: the tokenizer the model is meant to "
            "use (the shards are refused if another one made them)"
        )
    for key in ("levels", "seq_len"):
        if getattr(data, key) is not None:
            raise ConfigError(
                f"data.{key}={getattr(data, key)} does not apply to shards (their tokenizer fixes "
                "the vocabulary and their manifest the grid)"
            )
    if not data.name:
        raise ConfigError("data.name must name the dataset the shards hold, got ''")
    if data.root is not None:
        raise ConfigError(f"data.root={data.root!r} does not apply to shards")


# -- model families ------------------------------------------------------------------------


def _stream_only(model: ModelConfig, path: PathConfig, loss: LossConfig) -> tuple[tuple[str, Any, Any], ...]:
    """(key, value, default) of the options that make streams differ: multi-stream datasets only."""
    return (
        ("path.clean_stream_prob", path.clean_stream_prob, 0.0),
        ("path.clean_stream_weights", path.clean_stream_weights, None),
        ("path.null_stream_prob", path.null_stream_prob, 0.0),
        ("path.fixed_times", path.fixed_times, None),
        ("path.time_powers", path.time_powers, None),
        ("model.patches", model.patches, None),
        ("loss.stream_weighting", loss.stream_weighting, "equal"),
        ("loss.stream_weights", loss.stream_weights, None),
        ("path.timesteps", path.timesteps, "separate"),
    )


def check_streams(data: DataConfig, model: ModelConfig, path: PathConfig, loss: LossConfig) -> None:
    """The multi-stream family: its per-stream options and what it does not take; the per-stream
    options are refused for any other dataset. Stream names are checked against the data when
    training."""
    from ..data import is_stream_dataset

    check_range("path.clean_stream_prob", path.clean_stream_prob, 0, 1)
    check_range("path.null_stream_prob", path.null_stream_prob, 0, 1)
    if path.clean_stream_prob + path.null_stream_prob > 1:
        raise ConfigError(
            f"path.clean_stream_prob + path.null_stream_prob must be <= 1, got {path.clean_stream_prob} + "
            f"{path.null_stream_prob}"
        )
    for key, values, what, check in (
        ("path.fixed_times", path.stream_times(), "fixed time", check_probability),
        ("path.time_powers", path.stream_time_powers(), "time power", check_positive),
        ("path.clean_stream_weights", path.stream_clean_weights(), "clean weight", check_nonnegative),
        ("loss.stream_weights", loss.stream_loss_weights(), "loss weight", check_nonnegative),
    ):
        for name, value in values.items():
            with library_check(f"{key}: "):
                check(value, f"{what} of stream {name!r}")
    if data.shards is not None or not is_stream_dataset(data.name):
        for key, given, unset in _stream_only(model, path, loss):
            if given != unset:
                raise ConfigError(
                    f"{key}={given!r} applies to multi-stream datasets only; {data.name!r} has one token grid"
                )
        return
    if model.timestep and path.timesteps == "shared":
        for key, value, default in _stream_only(model, path, loss)[:5]:
            if value != default:
                raise ConfigError(
                    f"{key}={value!r} gives streams different times, but an explicit-timestep model with "
                    "path.timesteps=shared has one time for all streams; use path.timesteps=separate"
                )
    if path.clean_stream_weights is not None and path.clean_stream_prob == 0:
        raise ConfigError(
            f"path.clean_stream_weights={path.clean_stream_weights!r} chooses the clean stream, but "
            "path.clean_stream_prob is 0: no stream is ever held clean"
        )
    if loss.time_power != 1:
        raise ConfigError(
            f"loss.time_power={loss.time_power!r} draws one time per sample; the multi-stream dataset "
            f'{data.name!r} draws a time per stream: use path.time_powers (e.g. "image:2")'
        )
    unsupported: tuple[tuple[str, object, bool], ...] = (
        ("model.subtokens", model.subtokens, model.subtokens != 1),
        ("model.causal", model.causal, model.causal),
        ("path.smoothing", path.smoothing, path.smoothing != 0),
        ("path.coupling_ratio", path.coupling_ratio, path.coupling_ratio != 0),
        ("loss.masked", loss.masked, not loss.masked),
        ("loss.reduction", loss.reduction, loss.reduction != "masked_mean"),
    )
    for key, given, bad in unsupported:
        if bad:
            raise ConfigError(f"{key}={given!r} is not supported for the multi-stream dataset {data.name!r}")


def check_text(data: DataConfig, model: ModelConfig) -> None:
    """The text-to-image family (``model.text_encoder``, captioned datasets only) and its encoder's
    shape; a caption-pairs dataset without it cannot be class-conditional."""
    from ..data import is_caption_dataset
    from ..text_encoders import TEXT_ENCODERS

    enc = model.text_encoder
    if enc is None:
        if data.name == "caption-pairs" and model.class_conditional and data.shards is None:
            raise ConfigError(
                "data.name='caption-pairs' has a caption table per split, so caption ids are not classes shared by "
                "train and test: set model.text_encoder (scratch, minilm, clip:FOLDER) or model.class_conditional=false"
            )
        return
    if not (enc in ("scratch", "minilm") or (enc.startswith("clip:") and len(enc) > 5)):
        raise ConfigError(f"model.text_encoder={enc!r} is not one of {', '.join(TEXT_ENCODERS)}")
    if data.shards is not None or not is_caption_dataset(data.name):
        raise ConfigError(
            f"model.text_encoder={enc!r} needs a captioned dataset (scenes, fashion-mnist-captions, "
            f"caption-pairs with data.root), got data.name={data.name!r}"
        )
    if model.subtokens != 1 or model.causal:
        raise ConfigError("model.text_encoder takes plain masked tokens (model.subtokens=1, model.causal=false)")
    for key in ("text_len", "text_dim", "text_depth", "text_heads"):
        low = 0 if key == "text_depth" else 1
        if getattr(model, key) < low:
            raise ConfigError(f"model.{key} must be >= {low}, got {getattr(model, key)}")
    if model.text_dim % model.text_heads:
        raise ConfigError(f"model.text_heads ({model.text_heads}) must divide model.text_dim ({model.text_dim})")


def check_video(data: DataConfig, model: ModelConfig, path: PathConfig) -> None:
    """The video family: plain masked tokens and a video size; ``path.prefix_prob`` and video sizes
    belong to it alone."""
    from ..data import is_video_dataset

    if data.shards is None and is_video_dataset(data.name):
        for key, value, bad in (
            ("model.subtokens", model.subtokens, model.subtokens != 1),
            ("model.causal", model.causal, model.causal),
        ):
            if bad:
                raise ConfigError(
                    f"{key}={value!r} is not supported for the video dataset {data.name!r} (the video backbone "
                    "takes plain masked tokens)"
                )
        if model.size in MODEL_PRESETS:
            raise ConfigError(
                f"model.size={model.size!r} is an image size; the video dataset {data.name!r} takes "
                f"a video size: {', '.join(sorted(VIDEO_PRESETS))}"
            )
    elif path.prefix_prob != 0:
        raise ConfigError(
            f"path.prefix_prob={path.prefix_prob} applies to video datasets only; {data.name!r} holds no clips"
        )
    elif model.size in VIDEO_PRESETS:
        raise ConfigError(
            f"model.size={model.size!r} is a video size, but {data.name!r} is not a video dataset; "
            f"choose one of {', '.join(sorted(MODEL_PRESETS))}"
        )


def check_model(model: ModelConfig) -> None:
    """Sub-tokens (MDM-Prime) and the causal (autoregressive) family's needs, the size, the trunk
    (width, depth, heads, MLP ratio, dropout: ``unmask.models.check_trunk``, the backbones' own
    check), patch and token width, and the initialisation (``unmask.models.initialization.check_init``).
    What depends on the data (a patch that divides the grid) is checked when the model is built."""
    if model.subtokens < 1:
        raise ConfigError(f"model.subtokens (ℓ) must be >= 1 (1 = plain masked tokens), got {model.subtokens}")
    if model.causal:
        if model.subtokens != 1:
            raise ConfigError(f"model.causal=true takes plain tokens; got model.subtokens={model.subtokens}")
        if model.timestep:
            raise ConfigError("model.causal=true has no time input; set model.timestep=false")
        patch = model.patch if model.patch is not None else model_preset(model.size)["patch"]
        if patch != 1:
            raise ConfigError(f"model.causal=true needs model.patch=1, got {patch} (set model.patch=1)")
    check_choice("model.size", model.size, sorted(MODEL_PRESETS) + sorted(VIDEO_PRESETS))
    trunk = model.trunk_fields()
    with library_check("model: "):
        check_init(model.init, model.embed_std, model.pos_scale)
        check_trunk(
            dim=trunk["dim"],
            depth=trunk["depth"],
            heads=trunk["heads"],
            mlp_ratio=trunk["mlp_ratio"],
            num_classes=0,
            dropout=model.dropout,
        )
    if model.patch is not None:  # None: the size's own patch
        check_at_least(1, model, "model", ("patch",))
    check_at_least(0, model, "model", ("token_dim",))


# -- the other sections --------------------------------------------------------------------


def check_path(path: PathConfig) -> None:
    """The training schedule (by the schedule registry), smoothing, coupling and the video prefix."""
    from ..schedules import get_schedule

    with library_check():
        get_schedule(path.schedule_spec())
    check_range("path.smoothing", path.smoothing, 0, 1)
    check_range("path.coupling_ratio", path.coupling_ratio, 0, 1, high_open=True)
    check_range("path.prefix_prob", path.prefix_prob, 0, 1)


def check_loss(loss: LossConfig) -> None:
    """The t-draw's ε and power (the weighting and reduction are ``Literal`` choices of the schema)."""
    check_range("loss.eps", loss.eps, 0, 0.5, high_open=True)
    with library_check("loss.time_power: "):
        check_positive(loss.time_power, "time power")


def check_adam(adam: AdamConfig, where: str, *, clip_off: bool = False) -> None:
    """An ``AdamConfig`` section (keys ``where.name``): warm-up >= 0, lr > 0, clipping > 0 (>= 0
    with ``clip_off``: 0 turns it off), ``min_lr_ratio`` in [0, 1], betas in [0, 1), ``decay_steps``
    0 or past the warm-up, and only under the cosine schedule."""
    check_at_least(0, adam, where, ("warmup_steps", "decay_steps"))
    if adam.decay_steps and adam.lr_schedule != "cosine":
        raise ConfigError(
            f"{where}.decay_steps={adam.decay_steps} needs {where}.lr_schedule=cosine "
            f"(got {adam.lr_schedule!r}: a constant rate has no decay to end)"
        )
    if adam.decay_steps and adam.decay_steps <= adam.warmup_steps:
        raise ConfigError(
            f"{where}.decay_steps must be 0 (the run's steps) or > {where}.warmup_steps={adam.warmup_steps}, "
            f"got {adam.decay_steps}"
        )
    if not adam.lr > 0:
        raise ConfigError(f"{where}.lr must be > 0, got {adam.lr}")
    if clip_off and not adam.grad_clip >= 0:
        raise ConfigError(f"{where}.grad_clip must be >= 0 (0 = off), got {adam.grad_clip}")
    if not clip_off and not adam.grad_clip > 0:
        raise ConfigError(f"{where}.grad_clip must be > 0, got {adam.grad_clip}")
    check_range(f"{where}.min_lr_ratio", adam.min_lr_ratio, 0, 1)
    check_range(f"{where}.beta1", adam.beta1, 0, 1, high_open=True)
    check_range(f"{where}.beta2", adam.beta2, 0, 1, high_open=True)


def check_loop(loop: LoopConfig, where: str) -> None:
    """A ``LoopConfig`` section (keys ``where.name``): its counts >= 1, threads >= 0."""
    check_at_least(1, loop, where, ("steps", "batch_size", "log_every", "ckpt_every", "keep_checkpoints"))
    check_at_least(0, loop, where, ("threads",))


def check_optim(optim: OptimConfig) -> None:
    """The Adam fields (``check_adam``; clipping is always on) and the EMA decay."""
    check_adam(optim, "optim")
    check_range("optim.ema_decay", optim.ema_decay, 0, 1)


def check_train(train: TrainConfig) -> None:
    """The loop (``check_loop``), precision, condition dropout and its stopping rules."""
    check_loop(train, "train")
    check_range("train.p_uncond", train.p_uncond, 0, 1)
    check_at_least(1, train, "train", ("grad_accum", "plateau_smooth"))
    check_at_least(0, train, "train", ("eval_batches", "workers", "plateau_min_steps"))
    if not train.max_minutes >= 0:
        raise ConfigError(f"train.max_minutes must be >= 0 (0 = no limit), got {train.max_minutes}")
    if not train.plateau_tol >= 0:
        raise ConfigError(f"train.plateau_tol must be >= 0, got {train.plateau_tol}")
    check_range("train.plateau_window", train.plateau_window, 0, 1, low_open=True, high_open=True)
    if train.until_plateau and train.eval_batches == 0:
        raise ConfigError("train.until_plateau=true needs the held-out loss: train.eval_batches must be >= 1")
    if not train.eval_split.strip() or train.eval_split == "train":
        raise ConfigError(
            f"train.eval_split must name a held-out split of the dataset (test, or val where it has one), "
            f"got {train.eval_split!r}"
        )


def check_sample(sample: SampleConfig) -> None:
    """The default sampling settings. The ranges of the options are the samplers' own checks
    (``unmask.samplers``: steps, temperature / top-p / top-k, CFG scale, MaskGIT's Gumbel scale),
    run here on the config's values so a bad one fails at load time, named ``sample.<key>``; the
    rule of the config itself is that the Gumbel options go with ``sample.sampler=maskgit``."""
    from .._checks import check_int_at_least
    from ..samplers import check_cfg, check_gumbel_temperature, check_sampling_options
    from ..schedules import get_schedule

    with library_check():
        if sample.schedule is not None:
            get_schedule(sample.schedule)
        if sample.gumbel_temperature is not None:
            check_gumbel_temperature(sample.gumbel_temperature, "sample.gumbel_temperature")
        if (sample.gumbel is not None or sample.gumbel_temperature is not None) and sample.sampler != "maskgit":
            raise ConfigError("sample.gumbel and sample.gumbel_temperature apply to sample.sampler=maskgit")
        check_int_at_least(sample.steps, 1, "sample.steps")
        check_sampling_options(sample.temperature, sample.top_p, sample.top_k, prefix="sample.")
        check_cfg(sample.cfg, "sample.cfg")
