"""A convolutional VQ-VAE with an EMA codebook and dead-code restarts, and the tokenizer around it.

Architecture (van den Oord et al. 2017): a conv encoder that halves the resolution
``downsample`` times (28×28 → 7×7 for 2), residual blocks, a 1×1 projection to ``code_dim``;
nearest-neighbour quantisation against a codebook of ``codebook_size`` vectors; a mirrored
decoder with transposed convolutions. Images are scaled to [−1, 1]; the loss is MSE plus
β·‖z_e − sg(e)‖² (commitment).

Codebook: **EMA updates** (the paper's appendix, Razavi et al. 2019) rather than the
codebook loss ‖sg(z_e) − e‖²: each code is the running mean of the encoder outputs assigned
to it, so codes follow the encoder at a rate set by ``ema_decay`` instead of a learning rate,
and the optimiser never touches them. **Dead-code restarts** (Dhariwal et al. 2020): after
every update, codes whose EMA assignment count fell below ``dead_threshold`` are moved onto
encoder outputs of the current batch, drawn with the caller's generator. The counts start at
zero, so after the first training step every code sits on data: codes that drew fewer than
dead_threshold / (1 − ema_decay) vectors are restarted onto batch vectors, the others are the
mean of theirs. See docs/design.md for why.

Weights files (``save_vqvae``) are safetensors whose metadata holds the config, so one file
rebuilds the tokenizer; ``VQTokenizer.config()`` names the file and its SHA-256. The codebook
(``EMAVectorQuantizer``, ``codebook_perplexity``, ``codebook_usage``) lives in ``vq_codebook``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as safetensors_save
from torch import Tensor, nn

from .._io import atomic_write_bytes
from .base import (
    CodebookTokenizer,
    TokenizerError,
    check_codes,
    check_digest,
    file_sha256,
    float_to_images,
    images_to_float,
)
from .vq_codebook import EMAVectorQuantizer, codebook_perplexity, codebook_usage

__all__ = [
    "VQVAEConfig",
    "VQVAE",
    "VQOutput",
    "EMAVectorQuantizer",
    "VQTokenizer",
    "save_vqvae",
    "load_vqvae",
    "codebook_perplexity",
    "codebook_usage",
]

_FORMAT = "unmask-vqvae-1"
_META_KEY = "unmask_vqvae"


@dataclass
class VQVAEConfig:
    """Shape and codebook of a VQ-VAE.

    Attributes:
        in_channels: image channels (1 grey, 3 RGB).
        image_size: the training image side (the model is convolutional: any multiple of 2^downsample works).
        channels: width of the convolutional trunk.
        downsample: stride-2 stages; the code grid is image_size / 2^downsample per side.
        res_blocks: residual blocks at the code resolution, in the encoder and in the decoder.
        codebook_size: K, number of codes (the tokenizer's data vocabulary).
        code_dim: D, width of a code vector.
        beta: commitment weight β.
        ema_decay: γ of the EMA codebook update, in [0, 1).
        eps: Laplace smoothing ε of the assignment counts.
        dead_threshold: codes whose EMA count is below this are restarted (0 disables restarts).
    """

    in_channels: int = 1
    image_size: int = 28
    channels: int = 64
    downsample: int = 2
    res_blocks: int = 2
    codebook_size: int = 512
    code_dim: int = 32
    beta: float = 0.25
    ema_decay: float = 0.99
    eps: float = 1e-5
    dead_threshold: float = 1.0

    def __post_init__(self) -> None:
        for name in ("in_channels", "image_size", "channels", "downsample", "codebook_size", "code_dim"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.in_channels not in (1, 3):
            raise ValueError(f"in_channels must be 1 or 3, got {self.in_channels}")
        if self.res_blocks < 0:
            raise ValueError(f"res_blocks must be >= 0, got {self.res_blocks}")
        if self.image_size % (2**self.downsample):
            raise ValueError(
                f"image_size {self.image_size} must be divisible by 2^downsample = {2**self.downsample} "
                f"(downsample={self.downsample})"
            )
        if self.codebook_size > 65536:
            raise ValueError(f"codebook_size must be <= 65536 (tokens are stored as uint16), got {self.codebook_size}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if not self.beta >= 0:
            raise ValueError(f"beta must be >= 0, got {self.beta}")
        if not self.eps > 0:
            raise ValueError(f"eps must be > 0, got {self.eps}")
        if not self.dead_threshold >= 0:
            raise ValueError(f"dead_threshold must be >= 0, got {self.dead_threshold}")

    @property
    def factor(self) -> int:
        """Downsampling factor f = 2^downsample (pixels per code along each side)."""
        return int(2**self.downsample)

    @property
    def grid(self) -> tuple[int, int]:
        """Code grid of an ``image_size`` image."""
        side = self.image_size // self.factor
        return (side, side)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VQVAEConfig:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown VQ-VAE config keys {unknown}")
        return cls(**data)


class ResBlock(nn.Module):
    """x + Conv1×1(ReLU(Conv3×3(ReLU(x)))) (the VQ-VAE paper's residual block)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        hidden = max(channels // 2, 1)
        self.conv1 = nn.Conv2d(channels, hidden, 3, padding=1)
        self.conv2 = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(F.relu(self.conv1(F.relu(x))))


class Encoder(nn.Module):
    """(B, C, H, W) in [−1, 1] → (B, D, H/f, W/f)."""

    def __init__(self, cfg: VQVAEConfig) -> None:
        super().__init__()
        c = cfg.channels
        layers: list[nn.Module] = [nn.Conv2d(cfg.in_channels, c, 3, padding=1)]
        for _ in range(cfg.downsample):
            layers += [nn.ReLU(), nn.Conv2d(c, c, 4, stride=2, padding=1)]
        layers += [ResBlock(c) for _ in range(cfg.res_blocks)]
        layers += [nn.ReLU(), nn.Conv2d(c, cfg.code_dim, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class Decoder(nn.Module):
    """(B, D, h, w) → (B, C, h·f, w·f), unbounded (decode clamps to [−1, 1])."""

    def __init__(self, cfg: VQVAEConfig) -> None:
        super().__init__()
        c = cfg.channels
        layers: list[nn.Module] = [nn.Conv2d(cfg.code_dim, c, 3, padding=1)]
        layers += [ResBlock(c) for _ in range(cfg.res_blocks)]
        for _ in range(cfg.downsample):
            layers += [nn.ReLU(), nn.ConvTranspose2d(c, c, 4, stride=2, padding=1)]
        layers += [nn.ReLU(), nn.Conv2d(c, cfg.in_channels, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


@dataclass
class VQOutput:
    """recon: (B, C, H, W) unbounded; indices (B, h, w); z_e (B, D, h, w) encoder output; commitment (scalar);
    counts (K,) code assignments in the batch."""

    recon: Tensor
    indices: Tensor
    z_e: Tensor
    commitment: Tensor
    counts: Tensor


class VQVAE(nn.Module):
    """Encoder → EMA codebook → decoder. Inputs are float (B, C, H, W) in [−1, 1]."""

    def __init__(self, config: VQVAEConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.quantizer = EMAVectorQuantizer(
            config.codebook_size,
            config.code_dim,
            decay=config.ema_decay,
            eps=config.eps,
            dead_threshold=config.dead_threshold,
        )
        self.decoder = Decoder(config)

    def _check_input(self, x: Tensor) -> None:
        f = self.config.factor
        if x.ndim != 4 or x.shape[1] != self.config.in_channels or x.shape[2] % f or x.shape[3] % f:
            raise ValueError(
                f"VQ-VAE input must be (B, {self.config.in_channels}, H, W) with H and W divisible by {f}, "
                f"got {tuple(x.shape)}"
            )

    def forward(self, x: Tensor) -> VQOutput:
        self._check_input(x)
        z_e = self.encoder(x)
        q = self.quantizer(z_e)
        return VQOutput(self.decoder(q.quantized), q.indices, z_e, q.commitment, q.counts)

    def encode_indices(self, x: Tensor) -> Tensor:
        """(B, C, H, W) in [−1, 1] → code indices (B, H/f, W/f) int64."""
        self._check_input(x)
        z_e = self.encoder(x)
        b, d, h, w = z_e.shape
        return self.quantizer.nearest(z_e.permute(0, 2, 3, 1).reshape(-1, d).float()).view(b, h, w)

    def decode_indices(self, indices: Tensor) -> Tensor:
        """Code indices (B, h, w) → images (B, C, h·f, w·f), unbounded."""
        z = self.quantizer.lookup(indices).permute(0, 3, 1, 2)
        return self.decoder(z)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def save_vqvae(model: VQVAE, path: str | Path) -> Path:
    """Write the weights and buffers of ``model`` with its config in the metadata, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    # one metadata key: safetensors writes several in a per-process random order, and the file's
    # SHA-256 is the tokenizer's identity, so the same weights must give the same bytes
    meta = {_META_KEY: json.dumps({"format": _FORMAT, "config": model.config.to_dict()}, sort_keys=True)}
    atomic_write_bytes(path, safetensors_save(tensors, metadata=meta))
    return path


def load_vqvae(path: str | Path, *, expected_sha256: str | None = None) -> tuple[VQVAE, str]:
    """The VQ-VAE stored at ``path`` (eval mode, CPU) and the file's SHA-256.

    Raises ``TokenizerError`` naming the file if it is missing, not a VQ-VAE file, altered
    (hash differs from ``expected_sha256``) or does not match its own config.
    """
    path = Path(path)
    if not path.is_file():
        raise TokenizerError(f"VQ-VAE weights file {str(path)!r} does not exist")
    digest = file_sha256(path)
    check_digest(
        digest, expected_sha256, f"VQ-VAE weights file {str(path)!r}", "the file was retrained or replaced since"
    )
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - safe_open has no items()
    except (SafetensorError, OSError, ValueError) as err:
        raise TokenizerError(f"cannot read VQ-VAE weights {str(path)!r}: {err}") from None
    try:
        info = json.loads(meta[_META_KEY])
    except (KeyError, json.JSONDecodeError):
        raise TokenizerError(f"{str(path)!r} is not an unmask VQ-VAE file (no {_META_KEY!r} metadata)") from None
    if not isinstance(info, dict) or info.get("format") != _FORMAT:
        raise TokenizerError(f"{str(path)!r} is not an unmask VQ-VAE file of format {_FORMAT}")
    try:
        config = VQVAEConfig.from_dict(info["config"])
    except (KeyError, ValueError, TypeError) as err:
        raise TokenizerError(f"VQ-VAE file {str(path)!r} has an invalid config: {err}") from None
    model = VQVAE(config)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as err:
        raise TokenizerError(f"weights in {str(path)!r} do not match its config: {err}") from None
    return model.eval(), digest


class VQTokenizer(CodebookTokenizer):
    """A trained VQ-VAE as a tokenizer: uint8 images ↔ code indices (vocabulary K + [MASK]).

    ``VQTokenizer(model, path=None, sha256=None, *, batch_size=256, device="cpu")`` (the
    ``CodebookTokenizer`` constructor).

    ``encode`` takes uint8 (N, H, W) (grey) or (N, H, W, C) images with H, W divisible by the
    downsampling factor and returns (N, H/f, W/f) int64 codes; ``decode`` returns uint8 images
    (N, H, W) for grey models, (N, H, W, 3) for RGB ones. Work runs under ``no_grad`` in batches
    of ``batch_size`` on ``device``.
    """

    model: VQVAE
    default_batch_size = 256
    spec_name = "vqvae"

    def _adopt(self, model: VQVAE) -> None:
        """The codebook size and input channels of the VQ-VAE's config."""
        self.codebook_size = model.config.codebook_size
        self.channels = model.config.in_channels

    @classmethod
    def load(cls, path: str | Path, *, expected_sha256: str | None = None, **kwargs: Any) -> VQTokenizer:
        model, digest = load_vqvae(path, expected_sha256=expected_sha256)
        return cls(model, path, digest, **kwargs)

    @property
    def image_size(self) -> int:
        return self.model.config.image_size

    @property
    def grid(self) -> tuple[int, int]:
        """Code grid of an image of the training size."""
        return self.model.config.grid

    @torch.no_grad()
    def encode(self, images: np.ndarray | torch.Tensor) -> Tensor:
        """uint8 images (N, H, W) or (N, H, W, C) → codes (N, H/f, W/f) int64 in [0, K − 1]."""
        x = images_to_float(images, self.channels)
        out = [
            self.model.encode_indices(x[s : s + self.batch_size].to(self.device)).cpu()
            for s in range(0, x.shape[0], self.batch_size)
        ]
        f = self.model.config.factor
        return torch.cat(out) if out else torch.zeros(0, x.shape[2] // f, x.shape[3] // f, dtype=torch.long)

    @torch.no_grad()
    def decode(self, tokens: np.ndarray | Tensor) -> np.ndarray:
        """codes (N, h, w) in [0, K − 1] → uint8 images (N, h·f, w·f) (grey) or (N, h·f, w·f, 3)."""
        t = check_codes(tokens, self.codebook_size)
        if t.ndim != 3:
            raise ValueError(f"tokens to decode must have shape (N, h, w), got {tuple(t.shape)}")
        chunks = [
            float_to_images(self.model.decode_indices(t[s : s + self.batch_size].to(self.device)))
            for s in range(0, t.shape[0], self.batch_size)
        ]
        if chunks:
            return np.concatenate(chunks)
        f = self.model.config.factor
        shape = (0, t.shape[1] * f, t.shape[2] * f) + ((3,) if self.channels == 3 else ())
        return np.zeros(shape, dtype=np.uint8)

    def config(self) -> dict[str, Any]:
        """``{"name": "vqvae", "path": …, "sha256": …}``; the weights must have been saved to a file."""
        return self._spec("this VQ-VAE tokenizer has no weights file: save it with save_vqvae and load it")
