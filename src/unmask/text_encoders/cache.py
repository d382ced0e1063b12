"""Frozen-encoder caption embeddings cached on disk, keyed by encoder fingerprint + caption set.

``caption_condition(encoder, captions, cache=DIR)`` returns (embeddings (N, C, E), mask (N, C));
the first call encodes and writes ``DIR/<fingerprint[:16]>-<sha256(captions)[:16]>.safetensors``
(atomically), later calls read it. Encoding 10,000 captions through MiniLM takes minutes on this
CPU; reading takes milliseconds. A trainable encoder's condition is its ids (nothing to cache).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch import Tensor

from .._io import atomic_write_bytes
from .base import TextEncoder, check_captions, fingerprint

__all__ = ["caption_condition", "cache_path"]


def cache_path(encoder: TextEncoder, captions: Sequence[str], cache: str | Path) -> Path:
    """The cache file of these captions under this encoder."""
    caps = check_captions(captions)
    key = hashlib.sha256(json.dumps(caps).encode()).hexdigest()[:16]
    return Path(cache) / f"{encoder.name}-{fingerprint(encoder.spec())[:16]}-{key}.safetensors"


def caption_condition(
    encoder: TextEncoder, captions: Sequence[str], cache: str | Path | None = None
) -> tuple[Tensor, Tensor]:
    """The model input for ``captions``: ids or embeddings (N, C[, E]) and mask (N, C), cached for frozen encoders."""
    if encoder.trainable or cache is None:
        return encoder.condition(captions)
    path = cache_path(encoder, captions, cache)
    if path.is_file():
        try:
            data = load_file(str(path))
            if data["text"].shape[0] == len(captions):
                return data["text"], data["mask"].bool()
        except (SafetensorError, KeyError, OSError):
            pass  # unreadable: encode again
    text, mask = encoder.condition(captions)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, save({"text": text.contiguous(), "mask": mask.contiguous()}))
    return text, mask
