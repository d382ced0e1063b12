"""What a run is made of, built from its config: the backbone, its optimiser, the objective (and
its interpolant) and the sampler of its previews."""

from __future__ import annotations

from typing import Any, cast

import torch

from ..config import Config, ConfigError
from ..data import CaptionDataset, StreamDataset, is_video_dataset
from ..interpolants import MaskingInterpolant, MultiStreamInterpolant, StreamSpec
from ..losses import (
    AutoregressiveObjective,
    MaskedCrossEntropy,
    MaskedObjective,
    MultiStreamObjective,
    Objective,
    SubTokenCrossEntropy,
    SubTokenObjective,
)
from ..models import CaptionConditioned, MultiStreamTransformer, Transformer, VideoTransformer
from ..prime import SubTokenCodec, SubTokenInterpolant
from ..samplers import Sampler
from ..schedules import get_schedule
from .batches import AnyDataset
from .common import fused_adamw_available
from .text_model import build_text_model

__all__ = [
    "build_model",
    "build_optimizer",
    "stream_specs",
    "build_interpolant",
    "build_objective",
    "default_sampler",
]


def build_model(
    config: Config, dataset: AnyDataset
) -> Transformer | MultiStreamTransformer | VideoTransformer | CaptionConditioned:
    """The backbone for ``config`` on ``dataset`` (vocabulary, grid and classes from the data);
    a ``MultiStreamTransformer`` over the streams of a ``StreamDataset``, a ``VideoTransformer``
    over the clips (N, T, H, W) of a video dataset, a ``TextTransformer`` bound to the captions
    of a ``CaptionDataset`` when ``model.text_encoder`` is set."""
    if config.model.text_encoder is not None:
        if not isinstance(dataset, CaptionDataset):
            raise ConfigError(f"model.text_encoder needs a captioned dataset, got {config.data.name!r}")
        return build_text_model(config, dataset)
    if config.data.shards is None and is_video_dataset(config.data.name):
        return VideoTransformer(config.model.video_backbone(dataset.vocab_size, dataset.grid, dataset.num_classes))
    if isinstance(dataset, StreamDataset):
        return MultiStreamTransformer(
            config.model.multistream_backbone(
                dataset.vocab_sizes, dataset.grids, separate_times=config.path.timesteps == "separate"
            )
        )
    return Transformer(config.model.backbone(dataset.vocab_size, dataset.grid, dataset.num_classes))


def build_optimizer(model: torch.nn.Module, config: Config, device: torch.device) -> torch.optim.AdamW:
    """AdamW on ``model``'s parameters with the ``optim`` settings (the loop sets each step's
    learning rate), fused where ``fused_adamw_available``."""
    return torch.optim.AdamW(
        model.parameters(),
        lr=config.optim.lr,
        betas=(config.optim.beta1, config.optim.beta2),
        weight_decay=config.optim.weight_decay,
        fused=fused_adamw_available(device),
    )


def stream_specs(config: Config, dataset: StreamDataset) -> list[StreamSpec]:
    """The interpolant's streams for ``dataset``: its names, vocabularies and grids, the run's schedule."""
    schedule = get_schedule(config.path.schedule_spec())
    return [StreamSpec(name, dataset.vocab_sizes[name], dataset.grids[name], schedule) for name in dataset.names]


def build_interpolant(config: Config, vocab_size: int) -> MaskingInterpolant:
    """The masking interpolant of ``config.path`` over ``vocab_size`` ids ([MASK] the last): its
    schedule, smoothing, conditional-coupling ratio and prefix probability."""
    return MaskingInterpolant(
        get_schedule(config.path.schedule_spec()),
        vocab_size,
        smoothing=config.path.smoothing,
        coupling_ratio=config.path.coupling_ratio,
        prefix_prob=config.path.prefix_prob,
    )


def build_objective(config: Config, vocab_size: int, streams: list[StreamSpec] | None = None) -> Objective:
    """The training objective of ``config`` for data with ``vocab_size`` ids (incl. [MASK]).

    Masked diffusion on tokens (the default), MDM-Prime on ℓ = ``model.subtokens`` > 1
    sub-tokens, or next-token prediction for ``model.causal``; with ``streams`` (the
    ``stream_specs`` of a multi-stream dataset) masked diffusion on every stream.
    """
    weighting = cast(Any, config.loss.weighting)
    reduction = cast(Any, config.loss.reduction)
    if streams is not None:
        try:
            interpolant = MultiStreamInterpolant(
                streams,
                timesteps=config.path.timesteps,
                clean_stream_prob=config.path.clean_stream_prob,
                clean_stream_weights=config.path.stream_clean_weights(),
                null_stream_prob=config.path.null_stream_prob,
                fixed_times=config.path.stream_times(),
                time_powers=config.path.stream_time_powers(),
                eps=config.loss.eps,
            )
            return MultiStreamObjective(
                interpolant,
                MaskedCrossEntropy(weighting, True, "masked_mean"),
                config.loss.stream_weighting,
                config.loss.stream_loss_weights(),
            )
        except ValueError as err:
            raise ConfigError(str(err)) from None
    if config.model.causal:
        return AutoregressiveObjective(bos=vocab_size - 1)
    if config.model.subtokens > 1:
        if config.path.smoothing or config.path.coupling_ratio:
            raise ConfigError("path.smoothing and path.coupling_ratio are not supported with model.subtokens > 1")
        if not config.loss.masked:
            raise ConfigError("loss.masked=false has no meaning for MDM-Prime (revealed sub-tokens are certain)")
        codec = SubTokenCodec(vocab_size - 1, config.model.subtokens)
        return SubTokenObjective(
            SubTokenInterpolant(get_schedule(config.path.schedule_spec()), codec),
            SubTokenCrossEntropy(codec, weighting, reduction),
        )
    return MaskedObjective(
        build_interpolant(config, vocab_size), MaskedCrossEntropy(weighting, config.loss.masked, reduction)
    )


def default_sampler(model: Transformer, config: Config, **overrides: Any) -> Sampler:
    """The run's ``sample`` settings as a sampler that fits the model: ``sample.sampler`` for a masked
    model when set (Euler or MaskGIT), else Euler for masked models, the Prime sampler for sub-token
    models, ancestral sampling for causal ones. CFG is 1 for an unconditional model."""
    from ..samplers.settings import sampler_from_settings

    if model.config.causal:
        name = "autoregressive"
    elif model.subtokens:
        name = "prime"
    else:
        name = config.sample.sampler if config.sample.sampler in ("euler", "maskgit") else "euler"
    if model.num_classes == 0:
        overrides = {**overrides, "cfg": 1.0}
    return sampler_from_settings(config.sample, config.path.schedule_spec(), name, **overrides)
