"""Text encoders for caption conditioning: captions → what a ``unmask.models.TextTransformer`` takes.

This package sits in the tokenizer layer (it turns raw inputs — strings — into model inputs, as
``unmask.tokenizers`` turns images into tokens): it may import ``unmask.models`` but the models
never import it, so a backbone knows tensors only. It holds the caption rules (empty = null
caption, truncation with a warning), the word-hash ids of the encoder trained from scratch, the
frozen pretrained encoders (MiniLM, CLIP from a folder), and the on-disk embedding cache.

Names for ``load_text_encoder``: ``"scratch"``, ``"minilm"``, ``"clip:PATH"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import CaptionTruncated, TextEncoder, TextTokens, check_captions, fingerprint
from .cache import cache_path, caption_condition
from .pretrained import CLIPText, MiniLMText, TextEncoderUnavailable, minilm_path
from .scratch import ScratchText, words

__all__ = [
    "TextEncoder",
    "TextTokens",
    "CaptionTruncated",
    "TextEncoderUnavailable",
    "ScratchText",
    "MiniLMText",
    "CLIPText",
    "minilm_path",
    "words",
    "check_captions",
    "fingerprint",
    "caption_condition",
    "cache_path",
    "load_text_encoder",
    "text_encoder_from_spec",
    "TEXT_ENCODERS",
]

TEXT_ENCODERS = ("scratch", "minilm", "clip:PATH")


def load_text_encoder(name: str, max_length: int = 16, **scratch: Any) -> TextEncoder:
    """The encoder named ``name`` ("scratch", "minilm", "clip:PATH") with ``max_length`` tokens per caption."""
    if name == "scratch":
        return ScratchText(max_length=max_length, **scratch)
    if name == "minilm":
        return MiniLMText(max_length=max_length)
    if name.startswith("clip:") and len(name) > 5:
        return CLIPText(name[5:], max_length=max_length)
    raise ValueError(f"unknown text encoder {name!r}; choose one of {', '.join(TEXT_ENCODERS)}")


def text_encoder_from_spec(spec: dict[str, Any]) -> TextEncoder:
    """The encoder a checkpoint recorded; ``ValueError`` naming both hashes if its weights changed."""
    name = spec.get("name")
    if name == "scratch":
        return ScratchText(**{k: v for k, v in spec.items() if k != "name"})
    if name == "minilm":  # the recorded folder, or the installed package's if that one moved (the hash decides)
        path = spec.get("path")
        enc: TextEncoder = MiniLMText(
            max_length=int(spec["max_length"]), path=path if path and Path(path).is_dir() else None
        )
    elif name == "clip":
        enc = CLIPText(spec["path"], max_length=int(spec["max_length"]))
    else:
        raise ValueError(f"unknown text encoder spec {spec!r}")
    have = enc.spec()
    if have.get("sha256") != spec.get("sha256"):
        raise ValueError(
            f"the {name} text encoder at {have.get('path')!r} has weights {str(have.get('sha256'))[:12]}…, but the "
            f"checkpoint was trained with {str(spec.get('sha256'))[:12]}…: refusing to condition on other embeddings"
        )
    return enc
