"""The run config of ``unmask tokenizer train``: the images, the VQ-VAE and its training loop.

It is loaded like a run config (``unmask.config.presets.load_tokenizer_config``: defaults ← preset
← overrides, the same typed merging) from the presets in ``unmask/configs/tokenizers``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..tokenizers.vqvae import VQVAEConfig
from .errors import ConfigError, library_check
from .overrides import JsonConfig
from .rules import check_adam, check_at_least, check_loop
from .schema import AdamConfig, LoopConfig, LRSchedule

__all__ = ["TokenizerDataConfig", "TokenizerTrainConfig", "TokenizerRunConfig", "DEFAULT_TOKENIZER_PRESET"]

DEFAULT_TOKENIZER_PRESET = "fmnist-vq"


@dataclass
class TokenizerDataConfig:
    """Images to train a tokenizer on: a registered dataset or an image folder (``image_size``
    then sets the side images are cropped and resized to; None = ``model.image_size``)."""

    name: str = "fashion-mnist"
    image_size: int | None = None


@dataclass
class TokenizerTrainConfig(LoopConfig, AdamConfig):
    """The VQ-VAE loop: a training loop (``LoopConfig``) with Adam (``AdamConfig``; warm-up, cosine
    decay, clipping: 0 turns it off) and the images of its evaluations."""

    steps: int = 1500
    ckpt_every: int = 500
    warmup_steps: int = 50
    lr_schedule: LRSchedule = "cosine"
    grad_clip: float = 1.0
    eval_images: int = 2000


@dataclass
class TokenizerRunConfig(JsonConfig):
    """Everything that defines a ``unmask tokenizer train`` run."""

    data: TokenizerDataConfig = field(default_factory=TokenizerDataConfig)
    model: VQVAEConfig = field(default_factory=VQVAEConfig)
    train: TokenizerTrainConfig = field(default_factory=TokenizerTrainConfig)
    preset: str = DEFAULT_TOKENIZER_PRESET

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenizerRunConfig:
        """``JsonConfig.from_dict`` (a strict rebuild), validated."""
        return super().from_dict(data).validate()

    def resolve(self) -> TokenizerRunConfig:
        """Nothing of a tokenizer run is derived at load time: returns self (the loader's common step)."""
        return self

    def validate(self) -> TokenizerRunConfig:
        """Check ranges and the VQ-VAE shape (by ``VQVAEConfig``'s own checks); returns self unchanged."""
        with library_check("model: ", also=(TypeError,)):
            VQVAEConfig(**dataclasses.asdict(self.model))
        check_loop(self.train, "train")
        check_at_least(0, self.train, "train", ("eval_images",))
        check_adam(self.train, "train", clip_off=True)
        if not self.data.name:
            raise ConfigError("data.name must be a dataset name or an image folder, got ''")
        if self.data.image_size is not None and self.data.image_size < 1:
            raise ConfigError(f"data.image_size must be >= 1, got {self.data.image_size}")
        return self
