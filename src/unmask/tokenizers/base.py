"""What every tokenizer provides, its identity, and the image conventions they share."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor

from .._io import sha256_files
from ..errors import UserError

__all__ = [
    "Tokenizer",
    "TokenizerError",
    "tokenizer_fingerprint",
    "file_sha256",
    "channels_last_images",
    "images_to_float",
    "float_to_images",
    "check_codes",
    "check_digest",
    "CodebookTokenizer",
]


class TokenizerError(UserError):
    """A tokenizer cannot be built: missing or altered weights, a bad spec, a bad reference."""


@runtime_checkable
class Tokenizer(Protocol):
    """Images or text ↔ token ids.

    * ``kind``: ``"image"`` or ``"text"``.
    * ``encode``: uint8 images → int64 token ids in [0, vocab_size − 2], one grid per image (text
      tokenizers: a string → (n,) ids).
    * ``decode(tokens)``: token ids → uint8 images (grey (N, H, W) or RGB (N, H, W, 3)), or N strings.
    * ``vocab_size``: data tokens + 1; [MASK] is the last id (vocab_size − 1) and is never produced.
    * ``config()``: a JSON-serialisable spec from which ``build_tokenizer`` rebuilds the same tokenizer.

    Image tokenizers also have ``channels``: 1 for grey input, 3 for RGB (what ``encode`` expects;
    RGB tokenizers also take grey images and repeat them).
    """

    kind: str

    @property
    def vocab_size(self) -> int: ...

    def encode(self, images: Any) -> Tensor: ...

    def decode(self, tokens: Any) -> Any: ...

    def config(self) -> dict[str, Any]: ...


def tokenizer_fingerprint(spec: dict[str, Any]) -> str:
    """SHA-256 (hex) of a tokenizer spec without its ``path``: two specs with the same fingerprint
    turn the same images into the same tokens (the weights' SHA-256 is part of a learned tokenizer's spec)."""
    core = {k: v for k, v in spec.items() if k != "path"}
    return hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    return sha256_files(path)


def check_digest(digest: str, expected_sha256: str | None, what: str, since: str) -> None:
    """``TokenizerError`` unless the SHA-256 ``digest`` of ``what`` (the weights a tokenizer loads) is
    ``expected_sha256`` (None: any), the one recorded when the tokens were made; ``since`` says what
    changed."""
    if expected_sha256 is not None and digest != expected_sha256:
        raise TokenizerError(
            f"{what} has SHA-256 {digest[:16]}…, but the tokens were made by {expected_sha256[:16]}…: {since}"
        )


def channels_last_images(images: np.ndarray | Tensor) -> np.ndarray:
    """uint8 images (N, H, W) grey or (N, H, W, C) with C in {1, 3} as a channels-last array
    (N, H, W, C) (grey: C = 1); ``ValueError`` naming the dtype or shape otherwise."""
    x = np.asarray(images)
    if x.dtype != np.uint8:
        raise ValueError(f"images must be uint8 in [0, 255], got dtype {x.dtype}")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"images must have shape (N, H, W) or (N, H, W, C) with C in (1, 3), got {tuple(x.shape)}")
    return x


def images_to_float(images: np.ndarray | Tensor, channels: int) -> Tensor:
    """uint8 images → float32 (N, channels, H, W) in [−1, 1].

    Accepts (N, H, W) grey, (N, H, W, C) channels-last with C in {1, 3}. Grey images are repeated
    to 3 channels when ``channels`` is 3; RGB images are refused by a 1-channel tokenizer.
    """
    x = torch.as_tensor(channels_last_images(images))
    if x.shape[-1] != channels:
        if x.shape[-1] == 1 and channels == 3:
            x = x.expand(*x.shape[:-1], 3)
        else:
            raise ValueError(f"this tokenizer takes {channels}-channel images, got {x.shape[-1]} channels")
    return x.permute(0, 3, 1, 2).float().div(127.5).sub(1.0).contiguous()


def float_to_images(x: Tensor) -> np.ndarray:
    """float (N, C, H, W) in [−1, 1] (clamped) → uint8 (N, H, W) for C = 1, (N, H, W, C) otherwise."""
    u8 = torch.round((x.detach().float().clamp(-1.0, 1.0) + 1.0) * 127.5).to(torch.uint8).cpu()
    out = u8.permute(0, 2, 3, 1).numpy()
    return out[..., 0] if out.shape[-1] == 1 else out


def check_codes(tokens: np.ndarray | Tensor, codebook_size: int, what: str = "tokens") -> Tensor:
    """``tokens`` as an int64 tensor, or ``ValueError`` if one is not a codebook index in [0, codebook_size)."""
    t = torch.as_tensor(np.asarray(tokens))
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise ValueError(f"{what} must be integers, got dtype {t.dtype}")
    t = t.long()
    if t.numel():
        lo, hi = int(t.min()), int(t.max())
        if lo < 0 or hi >= codebook_size:
            bad = lo if lo < 0 else hi
            mask_note = " (the [MASK] id cannot be decoded)" if bad == codebook_size else ""
            raise ValueError(f"{what} contain id {bad} outside the codebook [0, {codebook_size - 1}]{mask_note}")
    return t


class CodebookTokenizer(ABC):
    """What the image tokenizers around a trained codebook network (``VQTokenizer``,
    ``DiffusersVQTokenizer``) share: the model in eval mode on ``device``, where its weights came
    from, the vocabulary (codes + [MASK]) and the spec of ``config()``.

    A subclass sets ``default_batch_size`` and ``spec_name``, reads what it needs off the model in
    ``_adopt`` (at least ``codebook_size``), and says in ``config`` how to get weights on disk.
    """

    kind = "image"
    default_batch_size = 256
    spec_name = ""
    codebook_size: int

    def __init__(
        self,
        model: Any,
        path: str | Path | None = None,
        sha256: str | None = None,
        *,
        batch_size: int | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        """``model`` loaded from ``path`` with weights of SHA-256 ``sha256`` (None for a model that was
        not loaded from disk); work runs in batches of ``batch_size`` (None: ``default_batch_size``)."""
        self.model = model.eval()
        self.path = None if path is None else Path(path).resolve()
        self.sha256 = sha256
        self.batch_size = self.default_batch_size if batch_size is None else batch_size
        self.device = torch.device(device)
        self.model.to(self.device)
        self._adopt(model)

    @abstractmethod
    def _adopt(self, model: Any) -> None:
        """Check ``model`` and read its shape (``codebook_size``, …) off it; called by ``__init__``."""

    @property
    def vocab_size(self) -> int:
        """Codes + the [MASK] id (= codebook_size)."""
        return self.codebook_size + 1

    def _spec(self, unsaved: str) -> dict[str, Any]:
        """``{"name": spec_name, "path": …, "sha256": …}``; ``TokenizerError(unsaved)`` when the weights
        did not come from disk."""
        if self.path is None or self.sha256 is None:
            raise TokenizerError(unsaved)
        return {"name": self.spec_name, "path": str(self.path), "sha256": self.sha256}
