"""Backbones f(x_t, t or None, cond) → logits over data tokens (one grid, several named streams, or token
videos with factorised space / time attention), embedders and presets.

Models know nothing of schedules or samplers.
"""

from .embeddings import LabelEmbedder, TimestepEmbedder, sincos_positions
from .multistream import MultiStreamConfig, MultiStreamTransformer, StreamConfig
from .presets import MODEL_PRESETS, build_model, model_preset
from .text import CaptionConditioned, ScratchTextEncoder, TextTransformer, TextTransformerConfig
from .transformer import Transformer, TransformerConfig
from .unet import UNet, UNetConfig
from .video import VIDEO_PRESETS, VideoTransformer, VideoTransformerConfig, video_preset

__all__ = [
    "UNet",
    "UNetConfig",
    "Transformer",
    "TransformerConfig",
    "MultiStreamTransformer",
    "MultiStreamConfig",
    "StreamConfig",
    "VideoTransformer",
    "VideoTransformerConfig",
    "VIDEO_PRESETS",
    "video_preset",
    "MODEL_PRESETS",
    "model_preset",
    "build_model",
    "TextTransformer",
    "TextTransformerConfig",
    "ScratchTextEncoder",
    "CaptionConditioned",
    "TimestepEmbedder",
    "LabelEmbedder",
    "sincos_positions",
]
