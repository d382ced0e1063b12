"""The multi-stream (joint) family: one ``MultiStreamTransformer`` over aligned streams (image, mask, label, …).

A run is of this family when its in-memory dataset is a ``StreamDataset``
(``unmask.data.is_stream_dataset``). Every stream is masked-diffused under its own time (or a
shared one); the loss of each stream is logged on its own; the preview draws all streams jointly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from ...config import Config, ConfigError
from ...data import StreamDataset, is_stream_dataset
from ...interpolants import MultiStreamInterpolant, StreamSpec
from ...losses import MaskedCrossEntropy, MultiStreamObjective, Objective
from ...models import MultiStreamConfig, MultiStreamTransformer
from ...models.initialization import with_legacy_init
from ...samplers import EulerSampler, MultiStreamSampler
from ...samplers.settings import sampler_from_settings
from ...schedules import get_schedule
from ...visualize import render_streams, save_grid
from ..batches import AnyDataset
from .base import ModelFamily, timestep_kind

__all__ = ["MultiStreamFamily", "stream_specs", "multistream_objective"]


def stream_specs(config: Config, dataset: StreamDataset) -> list[StreamSpec]:
    """The interpolant's streams for ``dataset``: its names, vocabularies and grids, the run's schedule."""
    schedule = get_schedule(config.path.schedule_spec())
    return [StreamSpec(name, dataset.vocab_sizes[name], dataset.grids[name], schedule) for name in dataset.names]


def multistream_objective(config: Config, streams: list[StreamSpec]) -> Objective:
    """Masked diffusion on every stream of ``streams`` (``stream_specs``), with the run's per-stream
    times, clean / null streams and loss weights; ``ConfigError`` for settings the streams refuse."""
    weighting = cast(Any, config.loss.weighting)
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


class MultiStreamFamily(ModelFamily):
    """Aligned streams drawn jointly (or one from the others) by one backbone."""

    name = "multistream"
    kind = "multistream"

    def matches(self, config: Config) -> bool:
        """An in-memory stream dataset (``data.name`` in ``unmask.data.STREAM_DATASETS``)."""
        return config.data.shards is None and is_stream_dataset(config.data.name)

    def build_model(self, config: Config, dataset: AnyDataset) -> nn.Module:
        """``MultiStreamTransformer`` over the streams' vocabularies and grids."""
        ds = cast(StreamDataset, dataset)
        return MultiStreamTransformer(
            config.model.multistream_backbone(
                ds.vocab_sizes, ds.grids, separate_times=config.path.timesteps == "separate"
            )
        )

    def build_objective(self, config: Config, dataset: AnyDataset) -> Objective:
        """``multistream_objective`` over the dataset's ``stream_specs``."""
        return multistream_objective(config, stream_specs(config, cast(StreamDataset, dataset)))

    def default_sampler(self, model: Any, config: Config, **overrides: Any) -> MultiStreamSampler:
        """Every stream drawn jointly from [MASK] by Euler with the run's ``sample`` settings (CFG 1:
        nothing is given)."""
        euler = sampler_from_settings(config.sample, config.path.schedule_spec(), "euler", **{"cfg": 1.0, **overrides})
        assert isinstance(euler, EulerSampler)
        return MultiStreamSampler("joint", euler)

    def stream_names(self, dataset: AnyDataset) -> list[str]:
        """The dataset's streams, in order."""
        return list(cast(StreamDataset, dataset).names)

    def model_from_backbone(self, backbone: dict[str, Any]) -> nn.Module:
        """``MultiStreamTransformer`` of the record."""
        return MultiStreamTransformer(MultiStreamConfig(**with_legacy_init(dict(backbone))))

    def describe(self, backbone: dict[str, Any]) -> list[str]:
        """Timestep kind (shared or separate times), each stream's grid, patch and vocabulary, width and depth."""
        bb = backbone
        kind = timestep_kind(bb)
        streams = "; ".join(
            f"{s['name']} grid {s['grid']} patch {s['patch']} vocab {s['vocab_size']}" for s in bb["streams"]
        )
        times = (", " + ("separate" if bb.get("separate_times") else "shared") + " times") if bb.get("timestep") else ""
        return [
            f"model: joint {kind}{times}, streams: {streams} (vocab incl. [MASK]), dim {bb['dim']}, depth {bb['depth']}"
        ]

    def preview(self, model: Any, dataset: AnyDataset, config: Config, path: Path, device: torch.device) -> Path:
        """``per_class`` rows of 8 joint samples, every image-like stream side by side
        (``unmask.visualize.render_streams``)."""
        gen = torch.Generator(device=device).manual_seed(0)
        joint = self.default_sampler(model, config).sample(
            model, n=config.sample.per_class * 8, generator=gen, device=device
        )
        pictures = render_streams({k: v.cpu() for k, v in joint.tokens.items()}, cast(StreamDataset, dataset))
        return save_grid(pictures, path, nrow=8)
