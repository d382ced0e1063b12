"""Backbones f(x_t, t or None, cond) → logits over data tokens (one grid, or several named streams),
embedders and presets.

Models know nothing of schedules or samplers.
"""

from .embeddings import LabelEmbedder, TimestepEmbedder, sincos_positions
from .multistream import MultiStreamConfig, MultiStreamTransformer, StreamConfig
from .presets import MODEL_PRESETS, build_model, model_preset
from .transformer import Transformer, TransformerConfig

__all__ = [
    "Transformer",
    "TransformerConfig",
    "MultiStreamTransformer",
    "MultiStreamConfig",
    "StreamConfig",
    "MODEL_PRESETS",
    "model_preset",
    "build_model",
    "TimestepEmbedder",
    "LabelEmbedder",
    "sincos_positions",
]
