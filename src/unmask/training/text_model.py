"""The caption-conditioned backbone of a run: its text encoder, caption table and binding.

Model building for text-to-image runs, below the trainer that builds them and the task code
(``unmask.t2i``, serving, the CLI) that samples them; ``unmask.t2i`` re-exports every name. It
used to live in ``unmask.t2i``, which the trainer then imported: the trainer → t2i → inference
→ training import cycle.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from ..config import Config, ConfigError
from ..data import CaptionDataset
from ..models import CaptionConditioned, TextTransformer, TextTransformerConfig
from ..paths import cache_dir
from ..text_encoders import ScratchText, TextEncoder, caption_condition, load_text_encoder, text_encoder_from_spec

__all__ = ["text_encoder_of", "build_text_model", "caption_table", "bind_captions", "load_text_encoder_for"]


def text_encoder_of(config: Config) -> TextEncoder:
    """The text encoder a run's config names (``model.text_encoder``, ``text_len``, scratch shape)."""
    m = config.model
    if m.text_encoder is None:
        raise ConfigError("this config has no model.text_encoder")
    try:
        return load_text_encoder(
            m.text_encoder,
            m.text_len,
            **(
                {"dim": m.text_dim, "depth": m.text_depth, "heads": m.text_heads} if m.text_encoder == "scratch" else {}
            ),
        )
    except ValueError as err:
        raise ConfigError(f"model.text_encoder: {err}") from None


def caption_table(encoder: TextEncoder, captions: Sequence[str]) -> tuple[Tensor, Tensor]:
    """(ids (N, C) or embeddings (N, C, E), mask (N, C)) of ``captions``; frozen embeddings cached on disk."""
    return caption_condition(encoder, captions, cache=None if encoder.trainable else cache_dir() / "text")


def build_text_model(config: Config, dataset: CaptionDataset) -> CaptionConditioned:
    """The run's text-conditioned backbone, bound to the captions of ``dataset`` (class i = caption i)."""
    encoder = text_encoder_of(config)
    backbone = config.model.backbone(dataset.vocab_size, dataset.grid, 0)
    tcfg = TextTransformerConfig(
        backbone=backbone,
        text_len=encoder.max_length,
        text_dim=encoder.dim,
        encoder=encoder.spec(),
        scratch_vocab=encoder.buckets if isinstance(encoder, ScratchText) else 0,
        scratch_depth=config.model.text_depth,
        scratch_heads=config.model.text_heads,
    )
    text, mask = caption_table(encoder, dataset.captions)
    return CaptionConditioned(TextTransformer(tcfg), text, mask)


def bind_captions(
    model: TextTransformer | CaptionConditioned, encoder: TextEncoder, captions: Sequence[str]
) -> CaptionConditioned:
    """``model`` over a new caption table (weights shared)."""
    inner = model.model if isinstance(model, CaptionConditioned) else model
    text, mask = caption_table(encoder, captions)
    dev = next(inner.parameters()).device
    return CaptionConditioned(inner, text.to(dev), mask.to(dev))


def load_text_encoder_for(model: TextTransformer | CaptionConditioned) -> TextEncoder:
    """The text encoder recorded in the model's config (name + weights hash); ``ValueError`` on a mismatch."""
    return text_encoder_from_spec(dict(model.config.encoder))
