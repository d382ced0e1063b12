"""The token-grid family: one ``Transformer`` over a grid of tokens (images, text), the fallback.

Three variants share it, told apart by the model config alone: masked diffusion (the default),
MDM-Prime (``model.subtokens`` = ℓ > 1 sub-tokens per token) and next-token prediction
(``model.causal``). Their objectives (``token_objective``) and default samplers
(``token_sampler``) serve the video and text-to-image families too, whose models are single
grids of masked tokens as well.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from torch import nn

from ...config import Config, ConfigError
from ...interpolants import MaskingInterpolant
from ...losses import (
    AutoregressiveObjective,
    MaskedCrossEntropy,
    MaskedObjective,
    Objective,
    SubTokenCrossEntropy,
    SubTokenObjective,
)
from ...models import Transformer, TransformerConfig
from ...prime import SubTokenCodec, SubTokenInterpolant
from ...samplers import Sampler
from ...samplers.settings import sampler_from_settings
from ...schedules import get_schedule
from ..batches import AnyDataset
from .base import ModelFamily, grid_backbone_fields, timestep_kind

__all__ = ["TokenGridFamily", "build_interpolant", "token_objective", "token_sampler_name", "token_sampler"]


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


def token_objective(config: Config, vocab_size: int) -> Objective:
    """The objective of a single token grid with ``vocab_size`` ids (incl. [MASK]): next-token
    prediction for ``model.causal``, MDM-Prime for ``model.subtokens`` > 1, else masked diffusion."""
    weighting = cast(Any, config.loss.weighting)
    reduction = cast(Any, config.loss.reduction)
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


def token_sampler_name(model: Any) -> str:
    """The sampler that fits a single-grid model: "autoregressive" for causal models, "prime" for
    MDM-Prime (sub-token) models, "euler" otherwise."""
    if model.config.causal:
        return "autoregressive"
    return "prime" if model.subtokens else "euler"


def token_sampler(model: Any, config: Config, **overrides: Any) -> Sampler:
    """The run's ``sample`` settings as a sampler that fits a single-grid model: ``sample.sampler`` for
    a masked model when set (Euler or MaskGIT), else Euler for masked models, the Prime sampler for
    sub-token models, ancestral sampling for causal ones. CFG is 1 for an unconditional model."""
    name = token_sampler_name(model)
    if name == "euler":
        name = config.sample.sampler if config.sample.sampler in ("euler", "maskgit") else "euler"
    if model.num_classes == 0:
        overrides = {**overrides, "cfg": 1.0}
    return sampler_from_settings(config.sample, config.path.schedule_spec(), name, **overrides)


class TokenGridFamily(ModelFamily):
    """A ``Transformer`` over one token grid: masked, MDM-Prime or causal (the fallback family).

    ``backbone_class`` and ``config_class`` are what a checkpoint's backbone record is rebuilt as
    (``model_from_backbone``); a grid family with another backbone sets its own.
    """

    name = "token-grid"
    kind: str | None = None
    fallback = True
    backbone_class: Callable[[Any], nn.Module] = Transformer
    config_class: Callable[..., Any] = TransformerConfig

    def matches(self, config: Config) -> bool:
        """Every config no other family claims (the fallback)."""
        return True

    def build_model(self, config: Config, dataset: AnyDataset) -> nn.Module:
        """``Transformer`` on the data's vocabulary, grid and classes."""
        return Transformer(config.model.backbone(dataset.vocab_size, dataset.grid, dataset.num_classes))

    def build_objective(self, config: Config, dataset: AnyDataset) -> Objective:
        """``token_objective`` on the data's vocabulary."""
        return token_objective(config, dataset.vocab_size)

    def default_sampler(self, model: Any, config: Config, **overrides: Any) -> Sampler:
        """``token_sampler``."""
        return token_sampler(model, config, **overrides)

    def model_from_backbone(self, backbone: dict[str, Any]) -> nn.Module:
        """``backbone_class`` of the record's ``config_class`` (``grid_backbone_fields``: a record
        without ``init`` was U-ViT-initialised)."""
        return self.backbone_class(self.config_class(**grid_backbone_fields(backbone)))

    def describe(self, backbone: dict[str, Any]) -> list[str]:
        """Timestep kind, grid, patch, vocabulary, width, depth, heads and classes."""
        bb = backbone
        kind = timestep_kind(bb)
        return [
            f"model: {kind}, grid {bb['grid']}, patch {bb['patch']}, vocab {bb['vocab_size']} (incl. [MASK]), "
            f"dim {bb['dim']}, depth {bb['depth']}, heads {bb['heads']}, classes {bb['num_classes']}"
        ]
