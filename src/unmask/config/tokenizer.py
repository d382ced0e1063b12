"""The run config of ``unmask tokenizer train``: the images, the VQ-VAE and its training loop.

It is loaded like a run config (``unmask.config.presets.load_tokenizer_config``: defaults ← preset
← overrides, the same typed merging) from the presets in ``unmask/configs/tokenizers``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..tokenizers.vqvae import VQVAEConfig
from .errors import ConfigError
from .overrides import JsonConfig, merge
from .rules import LOOP_COUNTS, check_at_least, check_range
from .schema import LRSchedule

__all__ = ["TokenizerDataConfig", "TokenizerTrainConfig", "TokenizerRunConfig", "DEFAULT_TOKENIZER_PRESET"]

DEFAULT_TOKENIZER_PRESET = "fmnist-vq"


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
    lr_schedule: LRSchedule = "cosine"
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
class TokenizerRunConfig(JsonConfig):
    """Everything that defines a ``unmask tokenizer train`` run."""

    data: TokenizerDataConfig = field(default_factory=TokenizerDataConfig)
    model: VQVAEConfig = field(default_factory=VQVAEConfig)
    train: TokenizerTrainConfig = field(default_factory=TokenizerTrainConfig)
    preset: str = DEFAULT_TOKENIZER_PRESET

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenizerRunConfig:
        """Strictly rebuild a saved config (unknown keys and wrong types are errors), validated."""
        return merge(cls(), data).validate()

    def resolve(self) -> TokenizerRunConfig:
        """Nothing of a tokenizer run is derived at load time: returns self (the loader's common step)."""
        return self

    def validate(self) -> TokenizerRunConfig:
        """Check ranges and the VQ-VAE shape (by ``VQVAEConfig``'s own checks); returns self unchanged."""
        try:
            VQVAEConfig(**dataclasses.asdict(self.model))
        except (ValueError, TypeError) as err:
            raise ConfigError(f"model: {err}") from None
        t = self.train
        check_at_least(1, t, "train", LOOP_COUNTS)
        check_at_least(0, t, "train", ("warmup_steps", "eval_images", "threads"))
        if not t.lr > 0:
            raise ConfigError(f"train.lr must be > 0, got {t.lr}")
        if not t.grad_clip >= 0:
            raise ConfigError(f"train.grad_clip must be >= 0 (0 = off), got {t.grad_clip}")
        check_range("train.min_lr_ratio", t.min_lr_ratio, 0, 1)
        check_range("train.beta1", t.beta1, 0, 1, high_open=True)
        check_range("train.beta2", t.beta2, 0, 1, high_open=True)
        if not self.data.name:
            raise ConfigError("data.name must be a dataset name or an image folder, got ''")
        if self.data.image_size is not None and self.data.image_size < 1:
            raise ConfigError(f"data.image_size must be >= 1, got {self.data.image_size}")
        return self
