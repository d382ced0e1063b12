"""Caption ids for the text encoder trained from scratch (``unmask.models.ScratchTextEncoder``).

Words (lower-cased runs of letters and digits; other characters separate words) are mapped to
ids by a stable hash, CRC-32 mod ``buckets`` − 1, plus 1 (0 is padding). No vocabulary file is
needed, any caption has ids, and the ids are the same on every machine and Python version. Two
words may share a bucket (with 4,096 buckets and the ~30 words of the scene captions there is no
collision; ``collisions()`` lists any for a given word set).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import torch

from .base import TextEncoder, TextTokens, check_captions, warn_truncated

__all__ = ["ScratchText", "words"]

_WORD = re.compile(r"[a-z0-9]+")


def words(caption: str) -> list[str]:
    """The words of a caption: lower-cased runs of [a-z0-9]."""
    return _WORD.findall(caption.lower())


class ScratchText(TextEncoder):
    """Hashed word ids for a ``ScratchTextEncoder`` of width ``dim``, ``depth`` blocks and ``heads`` heads."""

    name = "scratch"
    trainable = True

    def __init__(
        self, max_length: int = 16, buckets: int = 4096, dim: int = 128, depth: int = 2, heads: int = 2
    ) -> None:
        if max_length < 1:
            raise ValueError(f"max_length must be >= 1, got {max_length}")
        if buckets < 2:
            raise ValueError(f"buckets must be >= 2, got {buckets}")
        self.max_length, self.buckets, self.dim, self.depth, self.heads = max_length, buckets, dim, depth, heads

    def word_id(self, word: str) -> int:
        return 1 + zlib.crc32(word.encode()) % (self.buckets - 1)

    def collisions(self, vocabulary: Iterable[str]) -> dict[int, list[str]]:
        """Buckets shared by more than one of these words."""
        by: dict[int, list[str]] = {}
        for w in sorted(set(vocabulary)):
            by.setdefault(self.word_id(w), []).append(w)
        return {k: v for k, v in by.items() if len(v) > 1}

    def describe_word(self, word: str, known: Iterable[str] = ()) -> str:
        """The word's hash bucket, and whether a training word shares it (the model then reads it as that word)."""
        bucket = self.word_id(word)
        twins = sorted(w for w in set(known) if w != word and self.word_id(w) == bucket)
        if twins:
            return f"hash bucket {bucket}, shared with the training word(s) {', '.join(map(repr, twins))}: read as them"
        return f"hash bucket {bucket}, an embedding row training never updated (its effect is noise)"

    def tokenize(self, captions: Sequence[str]) -> TextTokens:
        caps = check_captions(captions)
        split = [words(c) for c in caps]
        warn_truncated(caps, [len(w) for w in split], self.max_length, "word")
        ids = torch.zeros(len(caps), self.max_length, dtype=torch.long)
        for i, ws in enumerate(split):
            row = [self.word_id(w) for w in ws[: self.max_length]]
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        return TextTokens(ids, ids > 0)

    def spec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "max_length": self.max_length,
            "buckets": self.buckets,
            "dim": self.dim,
            "depth": self.depth,
            "heads": self.heads,
        }
