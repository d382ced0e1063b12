"""The text-encoder interface: captions → (condition (N, C[, E]), mask (N, C)) for a ``TextTransformer``.

Every encoder has a ``spec()`` — a JSON dict with its name and, for pretrained ones, the SHA-256
of its weights — that a checkpoint stores; ``fingerprint(spec)`` identifies it (paths left out).

Caption rules, the same for every encoder:

* captions are stripped; an empty caption (``""`` or only spaces) has no tokens: it is the
  **null caption**, exactly the input of a dropped condition;
* a caption with more tokens than the encoder's ``max_length`` is **truncated** to its first
  ``max_length`` tokens, with a ``CaptionTruncated`` warning naming the caption (one warning per call).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from torch import Tensor

__all__ = ["TextEncoder", "TextTokens", "CaptionTruncated", "fingerprint", "check_captions"]


class CaptionTruncated(UserWarning):
    """A caption had more tokens than the encoder takes and was cut."""


@dataclass
class TextTokens:
    """Token ids (N, C) int64 (0 where ``mask`` is False) and mask (N, C) bool of N captions."""

    ids: Tensor
    mask: Tensor


def check_captions(captions: Sequence[str]) -> list[str]:
    """Captions as a list of stripped strings; ``TypeError`` naming the first non-string."""
    if isinstance(captions, str):
        raise TypeError(f"give a list of captions, not one string: {captions!r}")
    out = []
    for i, c in enumerate(captions):
        if not isinstance(c, str):
            raise TypeError(f"caption {i} must be a string, got {type(c).__name__}: {c!r}")
        out.append(c.strip())
    return out


def warn_truncated(captions: Sequence[str], lengths: Sequence[int], max_length: int, what: str) -> None:
    """One ``CaptionTruncated`` warning naming the first caption longer than ``max_length`` tokens."""
    long = [(i, n) for i, n in enumerate(lengths) if n > max_length]
    if long:
        i, n = long[0]
        more = f" (and {len(long) - 1} more)" if len(long) > 1 else ""
        warnings.warn(
            f"caption {i} {captions[i]!r} has {n} {what} tokens, more than the {max_length} it takes: truncated{more}",
            CaptionTruncated,
            stacklevel=3,
        )


def fingerprint(spec: dict[str, Any]) -> str:
    """SHA-256 of a spec without its ``path``: equal for the same encoder wherever its files live."""
    clean = {k: v for k, v in spec.items() if k != "path"}
    return hashlib.sha256(json.dumps(clean, sort_keys=True).encode()).hexdigest()


class TextEncoder(ABC):
    """Turns captions into what a ``TextTransformer`` takes.

    Attributes:
        name: registry name ("scratch", "minilm", "clip").
        max_length: C, tokens per caption (longer ones are truncated with a warning).
        dim: E, width of a caption token's embedding.
        trainable: True when the network is part of the generator (``scratch``): ``condition``
            then returns ids; frozen encoders return embeddings, which may be cached on disk.
    """

    name: str
    max_length: int
    dim: int
    trainable: bool = False

    @abstractmethod
    def tokenize(self, captions: Sequence[str]) -> TextTokens:
        """Captions → ids and mask (N, C); empty captions give all-False rows."""

    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """JSON spec that names this encoder and its weights."""

    def describe_word(self, word: str, known: Iterable[str] = ()) -> str:
        """How this encoder turns ``word`` into model input, for a note on a word the model never saw
        in training (``known``: the words it did see)."""
        ids = self.tokenize([word]).ids[0]
        return f"token ids {ids[ids > 0].tolist()}"

    def encode(self, tokens: TextTokens) -> Tensor:
        """Token embeddings (N, C, E) float32 (frozen encoders)."""
        raise NotImplementedError(f"the {self.name} text encoder is trained with the model; it has no fixed embeddings")

    def condition(self, captions: Sequence[str]) -> tuple[Tensor, Tensor]:
        """What the model takes for these captions: (ids (N, C) or embeddings (N, C, E), mask (N, C))."""
        tokens = self.tokenize(captions)
        if self.trainable:
            return tokens.ids, tokens.mask
        return self.encode(tokens), tokens.mask
