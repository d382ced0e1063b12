"""Features of a real dataset split, computed once per extractor and cached on disk.

The cache lives in ``cache_dir()/reference/`` (``$UNMASK_CACHE`` relocates it); a file's name
carries the dataset, split, number of images, the extractor's name (which includes a hash of
its weights) and a hash of the selected images' shape and pixels, so any change to one of
them — including every dataset option that changes the pixels (grey levels, frame count,
size) — computes a new file. Each file is an ``.npz`` written atomically (temporary name,
fsync, rename) holding the features as float32 (N, D) — needed for precision / recall — and
their float64 mean and covariance (from the float64 features, before rounding), so a cache
hit gives exactly the statistics that computing them gives. A file that cannot be read, or
whose contents do not match its name, is reported with a warning and recomputed.

:func:`reference_features` caches the images of a split; :func:`cached_features` is the
mechanism itself, for any set of real images — ``unmask.eval.video`` caches the frames of
reference clips with it.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._io import atomic_write_bytes
from ..paths import cache_dir
from .features import DEFAULT_EXTRACTOR, FeatureExtractor, get_extractor
from .frechet import FeatureStats

__all__ = ["ReferenceFeatures", "reference_features", "cached_features", "select_indices", "reference_dir"]

_FORMAT = 1
_SUBSET_SEED = 0


@dataclass(frozen=True)
class ReferenceFeatures:
    """Features of ``n`` real images of ``dataset``/``split`` under one extractor.

    Attributes:
        features: (n, dim) float32.
        stats: their mean (dim,) and covariance (dim, dim), float64.
        indices: (n,) int64 positions of the images in the split.
        extractor: the extractor's name (network + weights hash).
        path: the cache file.
    """

    dataset: str
    split: str
    n: int
    extractor: str
    features: np.ndarray
    stats: FeatureStats
    indices: np.ndarray
    path: Path


def reference_dir() -> Path:
    """``cache_dir()/reference``: where reference features are cached."""
    return cache_dir() / "reference"


def select_indices(total: int, n: int | None) -> np.ndarray:
    """The images used when ``n`` of ``total`` are asked for: all of them in order when ``n`` is None or
    ``total``, else a fixed pseudo-random subset (seed 0, legacy ``RandomState``), sorted. (n,) int64."""
    if n is None or n == total:
        return np.arange(total, dtype=np.int64)
    if not 2 <= n <= total:
        raise ValueError(f"n must be in [2, {total}] (the split's size), got {n}")
    rng = np.random.RandomState(_SUBSET_SEED)
    return np.sort(rng.permutation(total)[:n]).astype(np.int64)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def _load(path: Path, meta: dict[str, object], n: int, dim: int) -> tuple[np.ndarray, FeatureStats]:
    """Read a cache file and check it against the expected metadata; raises on any problem."""
    with np.load(path, allow_pickle=False) as data:
        stored = json.loads(str(data["meta"]))
        if stored != meta:
            raise ValueError(f"metadata {stored} differs from the expected {meta}")
        features = np.asarray(data["features"])
        mu = np.asarray(data["mu"])
        sigma = np.asarray(data["sigma"])
    if features.shape != (n, dim) or features.dtype != np.float32:
        raise ValueError(f"features are {features.dtype} {features.shape}, expected float32 {(n, dim)}")
    if not np.isfinite(features).all():
        raise ValueError("features contain NaN or inf")
    if mu.shape != (dim,):
        raise ValueError(f"mean has shape {mu.shape}, expected {(dim,)}")
    return features, FeatureStats(mu, sigma, n)


def _save(path: Path, meta: dict[str, object], features: np.ndarray, stats: FeatureStats) -> None:
    buf = io.BytesIO()
    np.savez(buf, features=features, mu=stats.mu, sigma=stats.sigma, meta=np.array(json.dumps(meta)))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())


def cached_features(
    images: np.ndarray,
    extractor: FeatureExtractor,
    key: dict[str, object],
    stem: str,
    *,
    refresh: bool = False,
    batch_size: int = 16,
    progress: bool | None = None,
) -> tuple[np.ndarray, FeatureStats, Path]:
    """Features and statistics of real ``images`` under ``extractor``, read from the reference cache or
    computed and cached.

    The file is ``reference_dir()/{stem}-{extractor.name}-{digest}.npz`` (unsafe characters replaced),
    where ``digest`` hashes the images' shape and bytes; it stores ``key`` with the format, the number
    of images, the extractor's name and the digest as its metadata, and a file whose metadata or
    arrays do not match is recomputed with a RuntimeWarning.

    Args:
        images: (N, H, W) uint8, N ≥ 2, exactly the images to embed (already selected).
        extractor: the extractor; its ``name`` (network + weights hash) is part of the key.
        key: JSON-serialisable description of where the images come from (e.g. ``dataset``,
            ``split``); must not use the keys ``format``, ``n``, ``extractor``, ``images_sha256``.
        stem: the file name's start, e.g. ``"digits-test-n40"``.
        refresh: recompute (and rewrite) even if a valid cache file exists.
        batch_size, progress: passed to the extractor.

    Returns:
        ``(features, stats, path)``: features (N, D) float32; their mean (D,) and covariance (D, D)
        in float64, computed from the float64 features; the cache file.
    """
    selected = np.ascontiguousarray(images)
    count = len(selected)
    digest = hashlib.sha256(repr(selected.shape).encode() + selected.tobytes()).hexdigest()[:16]
    reserved = {"format", "n", "extractor", "images_sha256"} & set(key)
    if reserved:
        raise ValueError(f"key must not set {sorted(reserved)}: they are filled in from the images and extractor")
    meta: dict[str, object] = {
        "format": _FORMAT,
        **key,
        "n": count,
        "extractor": extractor.name,
        "images_sha256": digest,
    }
    path = reference_dir() / _safe(f"{stem}-{extractor.name}-{digest}.npz")
    if path.is_file() and not refresh:
        try:
            features, stats = _load(path, meta, count, extractor.dim)
            return features, stats, path
        except Exception as exc:  # any unreadable or inconsistent file is recomputed
            warnings.warn(f"reference cache {path} is unusable ({exc}); recomputing", RuntimeWarning, stacklevel=3)
    feats64 = extractor(selected, batch_size=batch_size, progress=progress)
    stats = FeatureStats.from_features(feats64)
    features = feats64.astype(np.float32)
    _save(path, meta, features, stats)
    return features, stats, path


def reference_features(
    dataset: str,
    split: str = "test",
    extractor: str | FeatureExtractor = DEFAULT_EXTRACTOR,
    n: int | None = None,
    indices: np.ndarray | list[int] | None = None,
    *,
    levels: int | None = None,
    refresh: bool = False,
    batch_size: int = 16,
    progress: bool | None = None,
) -> ReferenceFeatures:
    """Features and statistics of real images of a registered dataset, from the cache or computed.

    Args:
        dataset: registry name (e.g. ``"digits"``).
        split: ``"train"`` or ``"test"``.
        extractor: an extractor spec for :func:`get_extractor`, or an extractor.
        n: number of images: all (None), or a fixed pseudo-random subset (:func:`select_indices`).
        indices: explicit positions of the images in the split (overrides the subset choice; if
            ``n`` is also given it must equal ``len(indices)``).
        levels: grey levels of the dataset's tokens (``get_dataset(..., levels)``; None: its
            default) — use the levels the samples were generated with. The cache key hashes the
            selected pixels, so it follows the quantisation.
        refresh: recompute even if a valid cache file exists.
        batch_size, progress: passed to the extractor.

    Raises:
        ValueError: bad ``n`` or ``indices``.
    """
    from ..data import get_dataset

    ext = get_extractor(extractor)
    images = get_dataset(dataset, split, levels).images()
    total = len(images)
    if indices is not None:
        idx = np.asarray(indices)
        if idx.ndim != 1 or len(idx) < 2 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(
                f"indices must be a 1-D integer array of at least 2 positions, got {idx.dtype} {idx.shape}"
            )
        if idx.min() < 0 or idx.max() >= total:
            raise ValueError(f"indices must lie in [0, {total}) for {dataset}/{split}")
        if n is not None and n != len(idx):
            raise ValueError(f"n = {n} but {len(idx)} indices given")
        idx = idx.astype(np.int64)
    else:
        idx = select_indices(total, n)
    count = len(idx)
    features, stats, path = cached_features(
        images[idx],
        ext,
        {"dataset": dataset, "split": split},
        f"{dataset}-{split}-n{count}",
        refresh=refresh,
        batch_size=batch_size,
        progress=progress,
    )
    return ReferenceFeatures(dataset, split, count, ext.name, features, stats, idx, path)
