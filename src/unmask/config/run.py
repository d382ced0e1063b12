"""``Config``: everything that defines a run, the sections of ``unmask.config.schema`` together.

A config is built in explicit steps (``unmask.config.presets`` runs them): defaults ← preset ←
overrides (``unmask.config.overrides``), then ``resolve`` fills what is derived from other fields,
then ``validate`` checks the result without changing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models import MODEL_PRESETS, VIDEO_PRESETS
from ..models.initialization import LEGACY_INIT
from . import rules
from .overrides import JsonConfig
from .schema import DataConfig, LossConfig, ModelConfig, OptimConfig, PathConfig, SampleConfig, TrainConfig

__all__ = ["Config", "DEFAULT_PRESET"]

DEFAULT_PRESET = "digits"


@dataclass
class Config(JsonConfig):
    """Everything that defines a run."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    path: PathConfig = field(default_factory=PathConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    sample: SampleConfig = field(default_factory=SampleConfig)
    preset: str = DEFAULT_PRESET

    @classmethod
    def upgrade(cls, data: dict[str, Any]) -> dict[str, Any]:
        """A config saved before ``model.init`` existed was U-ViT-initialised: it reads as ``init="uvit"``
        (``from_dict``, which strictly rebuilds a config, calls this first)."""
        model = data.get("model")
        if isinstance(model, dict) and "init" not in model:
            data = {**data, "model": {**model, "init": LEGACY_INIT}}
        return data

    def resolve(self) -> Config:
        """Fill the model fields left at None (dim, depth, heads, mlp_ratio, patch) from
        ``model.size``; in place, returns self.

        This is the loading step that makes every value concrete before a run saves its config:
        ``load_config`` and ``load_saved`` call it before ``validate``, which changes nothing. An
        unknown size is left for ``validate`` to report.
        """
        if self.model.size in MODEL_PRESETS or self.model.size in VIDEO_PRESETS:
            for key, value in self.model.size_fields().items():
                if getattr(self.model, key) is None:
                    setattr(self.model, key, value)
        return self

    def validate(self) -> Config:
        """Check choices that are not just types (names, ranges, what a model family takes) with
        ``unmask.config.rules``; returns self unchanged, ``ConfigError`` naming the bad key otherwise."""
        rules.check_config(self.data, self.model, self.path, self.loss, self.optim, self.train, self.sample)
        return self
