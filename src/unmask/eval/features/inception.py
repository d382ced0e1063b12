"""Inception-v3 as used for FID: the network of pytorch-fid, with its module names, for its weights file.

The architecture is torchvision's Inception-v3 with the changes pytorch-fid makes to match
TensorFlow's FID graph (``FIDInceptionA/C/E_1/E_2``): the 3×3 average pools inside the
A, C and first E blocks ignore the zero padding (``count_include_pad=False``), and the last E
block pools its fourth branch with a 3×3 *max* pool. The classifier has 1008 outputs and
there is no auxiliary head. Module and parameter names are those of pytorch-fid, so its
weights file ``pt_inception-2015-12-05-6726825d.pth`` loads with ``strict=True``; that file
is not downloadable here, so its local path must be given.

Input handling follows pytorch-fid: RGB images in [0, 1] (N, 3, H, W) are resized to
299×299 (bilinear, ``align_corners=False``, no antialiasing) and mapped to [−1, 1]. The FID
features are the 2048-d global average pool of ``Mixed_7c`` ("pool3").
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._fold import fold_all

__all__ = [
    "FIDInceptionV3",
    "BasicConv2d",
    "FIDInceptionA",
    "InceptionB",
    "FIDInceptionC",
    "InceptionD",
    "FIDInceptionE",
    "load_fid_inception",
    "preprocess_inception",
    "INCEPTION_INPUT_SIZE",
    "FID_WEIGHTS_NAME",
]

INCEPTION_INPUT_SIZE = 299
FID_WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"


class BasicConv2d(nn.Module):
    """Conv (no bias) → BatchNorm (ε = 1e-3) → ReLU; parameters ``conv.*`` and ``bn.*``."""

    def __init__(self, in_ch: int, out_ch: int, **conv_kwargs: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, bias=False, **conv_kwargs)
        self.bn = nn.BatchNorm2d(out_ch, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


def _avg_pool_3x3(x: Tensor) -> Tensor:
    """3×3 stride-1 average pool that, like TensorFlow's, averages only over real (unpadded) pixels."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(nn.Module):
    """35×35 block (Mixed_5b/c/d): 1×1, 5×5, double 3×3 and pooled branches → 224 + pool_features channels."""

    def __init__(self, in_ch: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(in_ch, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(in_ch, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(in_ch, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(in_ch, pool_features, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        a = self.branch1x1(x)
        b = self.branch5x5_2(self.branch5x5_1(x))
        c = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        d = self.branch_pool(_avg_pool_3x3(x))
        return torch.cat([a, b, c, d], 1)


class InceptionB(nn.Module):
    """Grid reduction 35 → 17 (Mixed_6a): stride-2 3×3, double 3×3 and max-pool branches → in_ch + 480 channels."""

    def __init__(self, in_ch: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(in_ch, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(in_ch, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        a = self.branch3x3(x)
        b = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        c = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([a, b, c], 1)


class FIDInceptionC(nn.Module):
    """17×17 block (Mixed_6b–e) with factorised 1×7 / 7×1 convolutions → 768 channels."""

    def __init__(self, in_ch: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(in_ch, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(in_ch, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(in_ch, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(in_ch, 192, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        a = self.branch1x1(x)
        b = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        c = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            c = layer(c)
        d = self.branch_pool(_avg_pool_3x3(x))
        return torch.cat([a, b, c, d], 1)


class InceptionD(nn.Module):
    """Grid reduction 17 → 8 (Mixed_7a) → in_ch + 512 channels."""

    def __init__(self, in_ch: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(in_ch, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(in_ch, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        a = self.branch3x3_2(self.branch3x3_1(x))
        b = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        c = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([a, b, c], 1)


class FIDInceptionE(nn.Module):
    """8×8 block (Mixed_7b: ``pool="avg"``, Mixed_7c: ``pool="max"``, as in TensorFlow's FID graph) → 2048 channels."""

    def __init__(self, in_ch: int, pool: Literal["avg", "max"]) -> None:
        super().__init__()
        if pool not in ("avg", "max"):
            raise ValueError(f"pool must be 'avg' or 'max', got {pool!r}")
        self.pool = pool
        self.branch1x1 = BasicConv2d(in_ch, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(in_ch, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(in_ch, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(in_ch, 192, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        a = self.branch1x1(x)
        b = self.branch3x3_1(x)
        b = torch.cat([self.branch3x3_2a(b), self.branch3x3_2b(b)], 1)
        c = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        c = torch.cat([self.branch3x3dbl_3a(c), self.branch3x3dbl_3b(c)], 1)
        if self.pool == "avg":
            pooled = _avg_pool_3x3(x)
        else:
            pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        d = self.branch_pool(pooled)
        return torch.cat([a, b, c, d], 1)


class FIDInceptionV3(nn.Module):
    """The FID Inception-v3: (N, 3, 299, 299) input in [−1, 1] → pool3 features (N, 2048) or logits (N, 1008)."""

    feature_dim = 2048
    num_classes = 1008

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = FIDInceptionA(192, pool_features=32)
        self.Mixed_5c = FIDInceptionA(256, pool_features=64)
        self.Mixed_5d = FIDInceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
        self.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = FIDInceptionE(1280, pool="avg")
        self.Mixed_7c = FIDInceptionE(2048, pool="max")
        self.fc = nn.Linear(self.feature_dim, self.num_classes)
        self.fused = False

    def fuse_batch_norms_(self) -> FIDInceptionV3:
        """Fold every batch norm into the convolution before it, in place, for inference; returns ``self``.

        The same function in eval mode (to float rounding; tested) with one pass over the activations fewer per
        convolution, as EfficientNet-Lite0's ``fuse_batch_norms_``. The state dict then no longer has
        pytorch-fid's layout, so load the weights first.

        Raises:
            ValueError: the network is in training mode (its batch norms would use batch statistics) or is
                already fused.
        """
        fold_all(self, [(m, "conv", "bn") for m in self.modules() if isinstance(m, BasicConv2d)], "Inception-v3")
        return self

    def features(self, x: Tensor) -> Tensor:
        """pool3 features (N, 2048) of a normalised input (N, 3, H, W) in [−1, 1] (H = W = 299 for FID)."""
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for block in (
            self.Mixed_5b,
            self.Mixed_5c,
            self.Mixed_5d,
            self.Mixed_6a,
            self.Mixed_6b,
            self.Mixed_6c,
            self.Mixed_6d,
            self.Mixed_6e,
            self.Mixed_7a,
            self.Mixed_7b,
            self.Mixed_7c,
        ):
            x = block(x)
        return x.mean(dim=(2, 3))

    def forward(self, x: Tensor) -> Tensor:
        """Logits (N, 1008) of the 2015 Inception graph (class 0 is "background")."""
        return self.fc(self.features(x))


def preprocess_inception(images: Tensor, size: int = INCEPTION_INPUT_SIZE) -> Tensor:
    """RGB in [0, 1] (N, 3, H, W) → (N, 3, size, size) in [−1, 1], resized as pytorch-fid does (bilinear)."""
    if images.shape[-2:] != (size, size):
        images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    return 2.0 * images - 1.0


def _mismatch_report(expected: Mapping[str, Tensor], got: Mapping[str, Any], limit: int = 5) -> list[str]:
    """Human-readable differences between two state_dicts (missing, unexpected, wrong shapes), first ``limit`` each."""
    missing = [k for k in expected if k not in got]
    unexpected = [k for k in got if k not in expected]
    shapes = [
        f"{k}: file {tuple(got[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in got and isinstance(got[k], Tensor) and tuple(got[k].shape) != tuple(v.shape)
    ]
    not_tensors = [k for k in expected if k in got and not isinstance(got[k], Tensor)]
    out = []
    for label, items in (
        ("missing keys", missing),
        ("unexpected keys", unexpected),
        ("shape mismatches", shapes),
        ("non-tensor values", not_tensors),
    ):
        if items:
            more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
            out.append(f"{len(items)} {label}: {', '.join(items[:limit])}{more}")
    return out


def load_fid_inception(path: str | os.PathLike[str]) -> FIDInceptionV3:
    """The FID Inception-v3 with pytorch-fid's weights (``pt_inception-2015-12-05-6726825d.pth``), eval mode.

    The file must hold exactly the parameters and buffers of :class:`FIDInceptionV3` with
    their shapes; only ``*.num_batches_tracked`` counters (meaningless for inference, absent
    from files saved by old PyTorch versions) may be missing.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file cannot be read as a state_dict, or it does not match the network
            (the message names the file and the first mismatching keys).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"FID Inception weights not found: {path} (expected pytorch-fid's {FID_WEIGHTS_NAME})")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(
            f"cannot read FID Inception weights from {path} (expected pytorch-fid's {FID_WEIGHTS_NAME}): {exc}"
        ) from exc
    if not isinstance(state, Mapping):
        raise ValueError(f"{path} does not hold a state_dict (got {type(state).__name__})")
    model = FIDInceptionV3()
    expected = model.state_dict()
    state = dict(state)
    for key, value in expected.items():
        if key.endswith(".num_batches_tracked") and key not in state:
            state[key] = value.clone()
    problems = _mismatch_report(expected, state)
    if problems:
        raise ValueError(
            f"{path} does not match pytorch-fid's FID Inception-v3 ({FID_WEIGHTS_NAME}): " + "; ".join(problems)
        )
    model.load_state_dict(state, strict=True)
    model.eval()
    model.requires_grad_(False)
    return model
