"""Tokenizers: ``encode`` images or text to token ids and ``decode`` them back.

* ``PixelQuantizer`` — grey levels as tokens (``pixel:LEVELS``).
* ``VQTokenizer`` — a VQ-VAE trained by ``unmask tokenizer train`` (a ``.safetensors`` file).
* ``DiffusersVQTokenizer`` — a pretrained diffusers ``VQModel`` folder (Stable Diffusion's VQ-f8
  layout; needs ``unmask[diffusers]``).
* ``ByteTokenizer``, ``CharTokenizer``, ``GPT2Tokenizer`` — text (``bytes``, ``chars``, ``gpt2``).

``kind`` is ``"image"`` (``decode`` gives uint8 arrays) or ``"text"`` (``decode`` gives strings).

Every tokenizer's ``config()`` is a spec that ``build_tokenizer`` turns back into the same
tokenizer; learned ones name their weights and the weights' SHA-256, so a checkpoint or a
shard set knows exactly which tokenizer made its tokens (``tokenizer_fingerprint``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import Tokenizer, TokenizerError, file_sha256, tokenizer_fingerprint
from .pixel import PixelQuantizer
from .pretrained import DiffusersVQTokenizer, is_diffusers_vq_folder
from .text import ByteTokenizer, CharTokenizer, GPT2Tokenizer, TextTokenizer, TokenizerNotAvailable
from .vqvae import VQVAE, VQTokenizer, VQVAEConfig, load_vqvae, save_vqvae

__all__ = [
    "Tokenizer",
    "TokenizerError",
    "PixelQuantizer",
    "VQTokenizer",
    "VQVAE",
    "VQVAEConfig",
    "DiffusersVQTokenizer",
    "save_vqvae",
    "load_vqvae",
    "build_tokenizer",
    "load_tokenizer",
    "tokenizer_fingerprint",
    "file_sha256",
    "TOKENIZER_RUN_FILE",
    "ByteTokenizer",
    "CharTokenizer",
    "GPT2Tokenizer",
    "TextTokenizer",
    "TokenizerNotAvailable",
    "TEXT_TOKENIZERS",
]

#: Text tokenizers by name (``data.tokenizer`` of in-memory text datasets).
TEXT_TOKENIZERS = ("bytes", "chars", "gpt2")

#: The tokenizer file a ``unmask tokenizer train`` run directory holds.
TOKENIZER_RUN_FILE = "tokenizer.safetensors"


def build_tokenizer(spec: dict[str, Any]) -> Tokenizer:
    """Rebuild a tokenizer from its ``config()`` dict (as stored in checkpoints and shard manifests).

    Learned tokenizers are checked against the SHA-256 in the spec: a missing, replaced or
    retrained weights file is a ``TokenizerError`` naming the file.
    """
    spec = dict(spec)
    name = spec.pop("name", None)
    if name == "pixel":
        return PixelQuantizer(**spec)  # type: ignore[arg-type]
    if name == "bytes":
        return ByteTokenizer()
    if name == "chars":
        return CharTokenizer(**spec)
    if name == "gpt2":
        return GPT2Tokenizer()
    if name in ("vqvae", "diffusers-vq"):
        path, sha = spec.get("path"), spec.get("sha256")
        if not isinstance(path, str) or not isinstance(sha, str):
            raise TokenizerError(f"tokenizer spec {name!r} needs 'path' and 'sha256' strings, got {spec}")
        if name == "vqvae":
            if not Path(path).is_file():
                raise TokenizerError(
                    f"the VQ-VAE weights {path!r} (SHA-256 {sha[:16]}…) that made these tokens are missing; "
                    "restore the file to decode"
                )
            return VQTokenizer.load(path, expected_sha256=sha)
        return DiffusersVQTokenizer.load(path, expected_sha256=sha)
    raise TokenizerError(f"unknown tokenizer {name!r} in spec {spec}")


def load_tokenizer(ref: str) -> Tokenizer:
    """A tokenizer from a reference given by a user:

    * ``pixel:L`` — ``L`` grey levels of uint8 images (``PixelQuantizer(L, max_value=255)``);
    * a VQ-VAE ``.safetensors`` file, or a ``unmask tokenizer train`` run directory (its ``tokenizer.safetensors``);
    * a diffusers ``VQModel`` folder (``config.json`` + weights, as written by ``save_pretrained``).
    """
    if ref.startswith("pixel:"):
        try:
            levels = int(ref.split(":", 1)[1])
        except ValueError:
            raise TokenizerError(
                f"tokenizer {ref!r}: pixel tokenizers are written pixel:LEVELS, e.g. pixel:16"
            ) from None
        try:
            return PixelQuantizer(levels, 255.0)
        except ValueError as err:
            raise TokenizerError(f"tokenizer {ref!r}: {err}") from None
    path = Path(ref)
    if path.is_dir():
        if (path / TOKENIZER_RUN_FILE).is_file():
            return VQTokenizer.load(path / TOKENIZER_RUN_FILE)
        if (path / "checkpoints").is_dir() and not is_diffusers_vq_folder(path):
            raise TokenizerError(
                f"tokenizer run {ref!r} has no {TOKENIZER_RUN_FILE} yet (it is written at the run's first checkpoint)"
            )
        if (path / "config.json").is_file() or (path / "diffusion_pytorch_model.safetensors").is_file():
            return DiffusersVQTokenizer.load(path)  # a VQModel folder, or a precise error about what it lacks
        raise TokenizerError(
            f"tokenizer folder {ref!r} holds neither {TOKENIZER_RUN_FILE} (an unmask tokenizer run) nor a diffusers "
            "VQModel (config.json + diffusion_pytorch_model.safetensors)"
        )
    if path.is_file():
        return VQTokenizer.load(path)
    raise TokenizerError(
        f"tokenizer {ref!r} does not exist; give pixel:LEVELS, a VQ-VAE .safetensors file or run directory, "
        "or a diffusers VQModel folder"
    )
