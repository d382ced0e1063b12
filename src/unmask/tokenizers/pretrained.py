"""Pretrained VQ tokenizers: a diffusers ``VQModel`` (Stable Diffusion's VQ-f8 layout) from a local folder.

The paper models the 32×32 indices of SD's VQ-f8 (vocabulary 16,384 + [MASK]) of 256×256
images. ``DiffusersVQTokenizer.load(folder)`` reads a folder written by
``VQModel.save_pretrained`` (``config.json`` + ``diffusion_pytorch_model.safetensors`` or
``.bin``) with ``local_files_only=True`` — never a hub name, nothing is downloaded. It needs the
optional extra ``unmask[diffusers]``.

Encoding: uint8 RGB images (grey ones are repeated to 3 channels) → [−1, 1] → encoder →
quant_conv → nearest code → (N, H/f, W/f) indices. Decoding: indices → codebook vectors →
post_quant_conv → decoder → clamp to [−1, 1] → uint8 (N, H, W, 3).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .._io import sha256_files
from .base import CodebookTokenizer, TokenizerError, check_codes, check_digest, float_to_images, images_to_float

__all__ = ["DiffusersVQTokenizer", "is_diffusers_vq_folder", "folder_sha256"]

_WEIGHT_FILES = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")


def is_diffusers_vq_folder(path: str | Path) -> bool:
    """True if ``path`` is a folder whose config.json names the class ``VQModel``."""
    cfg = Path(path) / "config.json"
    if not cfg.is_file():
        return False
    try:
        return json.loads(cfg.read_text()).get("_class_name") == "VQModel"
    except (OSError, json.JSONDecodeError, AttributeError):
        return False


def _weights_file(folder: Path) -> Path | None:
    for name in _WEIGHT_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def folder_sha256(folder: str | Path) -> str:
    """SHA-256 over config.json and the weights file of a VQModel folder (names and bytes)."""
    folder = Path(folder)
    weights = _weights_file(folder)
    if weights is None:
        raise TokenizerError(f"VQModel folder {str(folder)!r} has no weights file ({' or '.join(_WEIGHT_FILES)})")
    return sha256_files(folder / "config.json", weights, names=True)


class DiffusersVQTokenizer(CodebookTokenizer):
    """A diffusers ``VQModel`` as a tokenizer: images ↔ (N, H/f, W/f) codebook indices.

    ``DiffusersVQTokenizer(model, path=None, sha256=None, *, batch_size=16, device="cpu")`` (the
    ``CodebookTokenizer`` constructor).

    Attributes:
        model: the ``VQModel`` in eval mode.
        factor: f = 2^(number of down blocks − 1) (8 for SD's VQ-f8).
        codebook_size: number of codebook vectors (16,384 for SD's VQ-f8).
    """

    channels = 3
    default_batch_size = 16
    spec_name = "diffusers-vq"

    def _adopt(self, model: Any) -> None:
        """RGB to RGB only, and a codebook that fits uint16 token shards."""
        cfg = model.config
        if cfg.in_channels != 3 or cfg.out_channels != 3:
            raise TokenizerError(
                f"VQModel must map RGB to RGB, got in_channels={cfg.in_channels}, out_channels={cfg.out_channels}"
            )
        self.factor = int(2 ** (len(cfg.block_out_channels) - 1))
        self.codebook_size = int(cfg.num_vq_embeddings)
        if self.codebook_size > 65536:
            raise TokenizerError(
                f"codebook of {self.codebook_size} codes does not fit uint16 token shards (max 65,536)"
            )

    @classmethod
    def load(cls, folder: str | Path, *, expected_sha256: str | None = None, **kwargs: Any) -> DiffusersVQTokenizer:
        """Load a ``save_pretrained`` folder (local files only). Raises ``TokenizerError`` naming what is missing."""
        folder = Path(folder)
        if not folder.is_dir():
            raise TokenizerError(f"VQModel folder {str(folder)!r} does not exist")
        if not (folder / "config.json").is_file():
            raise TokenizerError(f"VQModel folder {str(folder)!r} has no config.json (write it with save_pretrained)")
        if not is_diffusers_vq_folder(folder):
            raise TokenizerError(f"{str(folder / 'config.json')!r} does not describe a diffusers VQModel")
        digest = folder_sha256(folder)
        check_digest(digest, expected_sha256, f"VQModel folder {str(folder)!r}", "its config or weights changed since")
        try:
            from diffusers import VQModel
        except ImportError:
            raise TokenizerError("pretrained VQ tokenizers need diffusers: pip install 'unmask[diffusers]'") from None
        try:
            model = VQModel.from_pretrained(str(folder), local_files_only=True)
        except Exception as err:  # noqa: BLE001 - diffusers raises many types for bad folders
            raise TokenizerError(f"cannot load the VQModel in {str(folder)!r}: {err}") from None
        return cls(model, folder, digest, **kwargs)

    def _check_size(self, h: int, w: int) -> None:
        if h % self.factor or w % self.factor:
            raise ValueError(f"image sides must be divisible by {self.factor} for this VQModel, got {h}×{w}")

    @torch.no_grad()
    def encode(self, images: np.ndarray | Tensor) -> Tensor:
        """uint8 images (N, H, W) grey or (N, H, W, 3) → (N, H/f, W/f) int64 in [0, codebook_size − 1]."""
        x = images_to_float(images, 3)
        self._check_size(x.shape[2], x.shape[3])
        out = []
        for s in range(0, x.shape[0], self.batch_size):
            batch = x[s : s + self.batch_size].to(self.device)
            h = self.model.encode(batch).latents  # (B, C, h, w) before quantisation
            _, _, info = self.model.quantize(h)
            idx = info[2]
            out.append(idx.reshape(h.shape[0], h.shape[2], h.shape[3]).long().cpu())
        if not out:
            return torch.zeros(0, x.shape[2] // self.factor, x.shape[3] // self.factor, dtype=torch.long)
        return torch.cat(out)

    @torch.no_grad()
    def decode(self, tokens: np.ndarray | Tensor) -> np.ndarray:
        """(N, h, w) indices in [0, codebook_size − 1] → uint8 RGB (N, h·f, w·f, 3)."""
        t = check_codes(tokens, self.codebook_size)
        if t.ndim != 3:
            raise ValueError(f"tokens to decode must have shape (N, h, w), got {tuple(t.shape)}")
        n, h, w = t.shape
        dim = int(self.model.quantize.vq_embed_dim)
        chunks = []
        for s in range(0, n, self.batch_size):
            idx = t[s : s + self.batch_size].to(self.device)
            b = idx.shape[0]
            quant = self.model.quantize.get_codebook_entry(idx.reshape(-1), (b, h, w, dim))  # (B, C, h, w)
            chunks.append(float_to_images(self.model.decode(quant, force_not_quantize=True).sample))
        if not chunks:
            return np.zeros((0, h * self.factor, w * self.factor, 3), dtype=np.uint8)
        return np.concatenate(chunks)

    def config(self) -> dict[str, Any]:
        """``{"name": "diffusers-vq", "path": folder, "sha256": …}`` (hash over config.json and weights)."""
        return self._spec("this VQModel tokenizer was not loaded from a folder; save_pretrained it and load it")
