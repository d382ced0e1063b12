"""Tokenizers: ``encode`` images or text to token ids and ``decode`` them back.

Every tokenizer has ``vocab_size`` (data tokens + the [MASK] id, which is last),
``decode`` and ``config()``; ``build_tokenizer(config())`` rebuilds it (checkpoints
store the config so samples decode through the tokenizer a model was trained with).
``kind`` is ``"image"`` (decode gives uint8 arrays) or ``"text"`` (decode gives strings).
"""

from __future__ import annotations

from typing import Any, Protocol

from .pixel import PixelQuantizer
from .text import ByteTokenizer, CharTokenizer, GPT2Tokenizer, TextTokenizer, TokenizerNotAvailable

__all__ = [
    "Tokenizer",
    "PixelQuantizer",
    "ByteTokenizer",
    "CharTokenizer",
    "GPT2Tokenizer",
    "TextTokenizer",
    "TokenizerNotAvailable",
    "build_tokenizer",
    "TEXT_TOKENIZERS",
]


class Tokenizer(Protocol):
    """What datasets, trainers and samplers need from a tokenizer."""

    kind: str

    @property
    def vocab_size(self) -> int: ...

    def decode(self, tokens: Any) -> Any: ...

    def config(self) -> dict[str, Any]: ...


#: Text tokenizers by name (``data.tokenizer`` of text datasets).
TEXT_TOKENIZERS = ("bytes", "chars", "gpt2")


def build_tokenizer(spec: dict[str, Any]) -> Tokenizer:
    """Rebuild a tokenizer from its ``config()`` dict (as stored in checkpoints)."""
    spec = dict(spec)
    name = spec.pop("name", None)
    if name == "pixel":
        return PixelQuantizer(**spec)
    if name == "bytes":
        return ByteTokenizer()
    if name == "chars":
        return CharTokenizer(**spec)
    if name == "gpt2":
        return GPT2Tokenizer()
    raise ValueError(f"unknown tokenizer {name!r} in spec {spec}")
