"""What a run is made of, built from its config: the backbone, its optimiser, the objective (and
its interpolant) and the sampler of its previews."""

from __future__ import annotations

from typing import Any

import torch

from ..config import Config
from ..interpolants import StreamSpec
from ..losses import Objective
from ..samplers import Sampler
from .batches import AnyDataset
from .common import fused_adamw_available
from .families import build_interpolant, family_for, multistream_objective, stream_specs, token_objective

__all__ = [
    "build_model",
    "build_optimizer",
    "stream_specs",
    "build_interpolant",
    "build_objective",
    "objective_for",
    "default_sampler",
]


def build_model(config: Config, dataset: AnyDataset) -> Any:
    """The backbone for ``config`` on ``dataset`` (vocabulary, grid and classes from the data), as the
    run's model family builds it (``unmask.training.families``): a ``Transformer`` over a token grid, a
    ``MultiStreamTransformer`` over the streams of a ``StreamDataset``, a ``VideoTransformer`` over
    the clips (N, T, H, W) of a video dataset, a ``TextTransformer`` bound to the captions of a
    ``CaptionDataset`` when ``model.text_encoder`` is set."""
    return family_for(config).build_model(config, dataset)


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


def build_objective(config: Config, vocab_size: int, streams: list[StreamSpec] | None = None) -> Objective:
    """The training objective of ``config`` for data with ``vocab_size`` ids (incl. [MASK]).

    Masked diffusion on tokens (the default), MDM-Prime on ℓ = ``model.subtokens`` > 1
    sub-tokens, or next-token prediction for ``model.causal``; with ``streams`` (the
    ``stream_specs`` of a multi-stream dataset) masked diffusion on every stream. The form of
    callers that hold sizes, not a dataset; with a dataset, ``family_for(config).build_objective``.
    """
    if streams is not None:
        return multistream_objective(config, streams)
    return token_objective(config, vocab_size)


def objective_for(config: Config, dataset: AnyDataset) -> Objective:
    """The training objective of ``config`` on ``dataset``, as the run's model family builds it."""
    return family_for(config).build_objective(config, dataset)


def default_sampler(model: Any, config: Config, **overrides: Any) -> Sampler:
    """The run's ``sample`` settings as a sampler that fits a single-grid model, as the run's model
    family chooses it: ``sample.sampler`` for a masked model when set (Euler or MaskGIT), else Euler
    for masked models, the Prime sampler for sub-token models, ancestral sampling for causal ones;
    CFG is 1 for an unconditional model. ``ValueError`` for a joint model, whose sampler is not a
    ``Sampler``: ask ``family_for(config).default_sampler`` for it."""
    sampler = family_for(config).default_sampler(model, config, **overrides)
    if not isinstance(sampler, Sampler):
        raise ValueError(
            f"the {family_for(config).name} family draws with a {type(sampler).__name__}; "
            "get it from unmask.training.families.family_for(config).default_sampler"
        )
    return sampler
