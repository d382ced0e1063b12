"""A small convolutional U-Net that maps a grey-level token image to per-pixel class logits.

The discriminative segmentation baseline a practitioner would pick instead of a joint
image + mask model (issue 19): plain PyTorch, no timestep, no masking.

**Input.** A token image (B, H, W) of grey-level ids in [0, levels − 1] (a [MASK] id is
refused). The ids are turned back into the grey image they stand for, ``ids / (levels − 1)``
in [0, 1], one input channel. That is a bijection of the ids, so the U-Net sees exactly what
the joint model sees; it keeps the order of the grey levels (level 7 is between 6 and 8),
which a convolution on a grey image exploits from its first step and a learned embedding
would have to learn; and it is what a practitioner feeds a CNN. The first 3×3 convolution and
its non-linearity can still learn any per-level response it needs.

**Shape.** ``depth`` stages of two 3×3 convolutions (each followed by a norm and ReLU) and a
2× max-pool on the way down, channels ``width · 2^i`` at stage i; a bottleneck stage at
``width · 2^depth``; on the way up a 2×2 transposed convolution, the skip connection of that
stage concatenated, and two 3×3 convolutions. The decoder stops at ``output_stride``: with
``output_stride = 2`` (the ``shapes`` dataset: 32×32 images, 16×16 masks) it ends at the
half-resolution stage, so the logits are on the mask's grid, and the full-resolution encoder
stage reaches them through the pooling. A 1×1 convolution gives the class logits.

**Sizes.** H and W must be multiples of ``output_stride`` (else ``ValueError`` naming the
size); an image that is not a multiple of 2^depth is padded (edge values repeated) up to one
and the logits cropped back, so odd and non-square images work.

**Norm.** GroupNorm (default): independent of the batch, identical in training and
evaluation, exact with a batch of one; BatchNorm is available (``norm="batch"``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["UNet", "UNetConfig", "UNET_NORMS"]

UNET_NORMS = ("group", "batch")


@dataclass(frozen=True)
class UNetConfig:
    """The U-Net's shape.

    Attributes:
        levels: grey levels of the input tokens (ids 0 … levels − 1; e.g. 16 for ``shapes``).
        num_classes: classes of the output map (6 for ``shapes``: background + 5 shapes).
        width: channels of the first stage (stage i has ``width · 2^i``).
        depth: number of 2× downsamplings (the bottleneck is at 1 / 2^depth resolution).
        output_stride: the logits' grid is the image's divided by this (1, 2, 4 … ≤ 2^depth).
        norm: "group" (GroupNorm) or "batch" (BatchNorm2d).
        groups: GroupNorm groups (at most the channels of a layer; must divide them).
    """

    levels: int
    num_classes: int
    width: int = 32
    depth: int = 3
    output_stride: int = 1
    norm: str = "group"
    groups: int = 8

    def __post_init__(self) -> None:
        for name in ("levels", "num_classes", "width", "depth", "output_stride", "groups"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise ValueError(f"UNetConfig.{name} must be an integer, got {v!r}")
        if self.levels < 2:
            raise ValueError(f"UNetConfig.levels must be >= 2, got {self.levels}")
        if self.num_classes < 2:
            raise ValueError(f"UNetConfig.num_classes must be >= 2, got {self.num_classes}")
        if self.width < 1 or self.depth < 1 or self.groups < 1:
            raise ValueError(
                f"UNetConfig width, depth and groups must be >= 1, got {self.width}, {self.depth}, {self.groups}"
            )
        s = self.output_stride
        if s < 1 or s & (s - 1) or s > 2**self.depth:
            raise ValueError(
                f"UNetConfig.output_stride must be a power of two in [1, 2^depth = {2**self.depth}], got {s}"
            )
        if self.norm not in UNET_NORMS:
            raise ValueError(f"UNetConfig.norm must be one of {', '.join(UNET_NORMS)}, got {self.norm!r}")
        if self.norm == "group" and self.width % min(self.groups, self.width):
            raise ValueError(f"UNetConfig.groups={self.groups} must divide width={self.width} (GroupNorm)")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _norm(cfg: UNetConfig, channels: int) -> nn.Module:
    if cfg.norm == "batch":
        return nn.BatchNorm2d(channels)
    return nn.GroupNorm(min(cfg.groups, channels), channels)


class _Block(nn.Sequential):
    """Two (3×3 conv → norm → ReLU): (B, c_in, h, w) → (B, c_out, h, w)."""

    def __init__(self, cfg: UNetConfig, c_in: int, c_out: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            _norm(cfg, c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            _norm(cfg, c_out),
            nn.ReLU(inplace=True),
        )


class UNet(nn.Module):
    """Token image (B, H, W) → class logits (B, num_classes, H / s, W / s), s = ``output_stride``.

    See the module docstring for the input, the stages and the sizes it accepts.
    """

    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        self.config = config
        w, d = config.width, config.depth
        chans = [w * 2**i for i in range(d + 1)]
        self.down = nn.ModuleList([_Block(config, 1 if i == 0 else chans[i - 1], chans[i]) for i in range(d)])
        self.bottom = _Block(config, chans[d - 1], chans[d])
        # decoder stages d-1 … stop (stop = log2 output_stride); stage i upsamples chans[i+1] → chans[i]
        self.stop = config.output_stride.bit_length() - 1
        stages = range(d - 1, self.stop - 1, -1)
        self.up = nn.ModuleList([nn.ConvTranspose2d(chans[i + 1], chans[i], 2, stride=2) for i in stages])
        self.dec = nn.ModuleList([_Block(config, 2 * chans[i], chans[i]) for i in stages])
        self.head = nn.Conv2d(chans[self.stop], config.num_classes, 1)  # the last stage has chans[stop] channels

    def num_parameters(self) -> int:
        """Trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def grey(self, tokens: Tensor) -> Tensor:
        """(B, H, W) grey-level ids → (B, 1, H, W) float grey image in [0, 1]; refuses ids outside the levels."""
        if tokens.ndim != 3:
            raise ValueError(f"the U-Net takes a token image (B, H, W), got shape {tuple(tokens.shape)}")
        if tokens.dtype.is_floating_point:
            raise ValueError(f"the U-Net takes integer grey-level ids, got dtype {tokens.dtype}")
        lv = self.config.levels
        if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= lv):
            bad = int(tokens.min()) if int(tokens.min()) < 0 else int(tokens.max())
            raise ValueError(f"token id {bad} is outside the grey levels [0, {lv - 1}] (a [MASK] id is not an input)")
        return (tokens.float() / (lv - 1))[:, None]

    def forward(self, tokens: Tensor) -> Tensor:
        """(B, H, W) int ids in [0, levels − 1] → (B, num_classes, H / s, W / s) logits."""
        s, d = self.config.output_stride, self.config.depth
        x = self.grey(tokens)
        h, w = int(x.shape[-2]), int(x.shape[-1])
        if h % s or w % s:
            raise ValueError(
                f"image size {h}×{w} is not a multiple of the U-Net's output_stride {s}: the logits' grid would be "
                f"{h / s:g}×{w / s:g}"
            )
        m = 2**d
        ph, pw = -h % m, -w % m
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottom(x)
        for up, dec in zip(self.up, self.dec, strict=True):
            x = up(x)
            x = dec(torch.cat([x, skips.pop()], dim=1))
        return self.head(x)[..., : h // s, : w // s]
