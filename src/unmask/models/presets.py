"""Named backbone sizes. A preset fixes the width and depth; the data fixes grid, vocabulary and classes."""

from __future__ import annotations

from typing import Any

from .transformer import Transformer, TransformerConfig

__all__ = ["MODEL_PRESETS", "model_preset", "build_model"]

#: name → TransformerConfig fields (everything but vocab_size / grid / num_classes / timestep).
MODEL_PRESETS: dict[str, dict[str, Any]] = {
    # For unit tests: a few thousand parameters.
    "tiny": {"dim": 32, "depth": 2, "heads": 2, "mlp_ratio": 2.0, "patch": 1},
    # The default for 8×8 digits on a 2-core CPU.
    "digits": {"dim": 128, "depth": 6, "heads": 4, "mlp_ratio": 4.0, "patch": 2},
    # Fashion-MNIST 28×28 on a 2-core CPU: 4×4 patches, 49 positions.
    "fmnist": {"dim": 192, "depth": 7, "heads": 3, "mlp_ratio": 4.0, "patch": 4},
    # Joint multi-stream models on a 2-core CPU: 32×32 shapes + 16×16 masks, 28×28 images + labels.
    "joint": {"dim": 128, "depth": 6, "heads": 4, "mlp_ratio": 4.0, "patch": 4},
    # Text (1-D, patch 1: the causal reference needs one token per position) on a 2-core CPU.
    "text": {"dim": 128, "depth": 6, "heads": 4, "mlp_ratio": 4.0, "patch": 1},
    # Small / base / large U-ViT-style widths for 28×28 grids and up (patch 2).
    "small": {"dim": 256, "depth": 9, "heads": 4, "mlp_ratio": 4.0, "patch": 2},
    "base": {"dim": 512, "depth": 13, "heads": 8, "mlp_ratio": 4.0, "patch": 2},
    "large": {"dim": 768, "depth": 21, "heads": 12, "mlp_ratio": 4.0, "patch": 2},
}


def model_preset(name: str) -> dict[str, Any]:
    """The fields of preset ``name`` (a copy)."""
    if name not in MODEL_PRESETS:
        raise ValueError(f"unknown model preset {name!r}; choose one of {', '.join(sorted(MODEL_PRESETS))}")
    return dict(MODEL_PRESETS[name])


def build_model(config: TransformerConfig) -> Transformer:
    """Instantiate the backbone for a config."""
    return Transformer(config)
