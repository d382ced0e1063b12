"""Improved precision and recall (Kynkäänniemi et al., 2019) of generated vs real features.

Each set's manifold is estimated as the union of balls centred on its points, each with the
radius of the distance to that point's k-th nearest neighbour in the same set (the point
itself excluded). Precision is the fraction of generated points inside the real manifold
(fidelity); recall is the fraction of real points inside the generated manifold (coverage).

Distances are computed in float64 from features centred on the real mean, block by block
(at most ``max_block_elems`` distances held at a time), so 10k × 10k comparisons of 1280-d
features need about 100 MB. Squared distances within 1e-10 of the mean squared norm of a
ball's radius count as equal, so exact duplicates (radius 0) are not lost to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ._threads import DEFAULT_THREADS, torch_threads

__all__ = ["PrecisionRecall", "precision_recall", "knn_radii"]

_DEFAULT_BLOCK = 1 << 23  # distances per block: 64 MB of float64


@dataclass(frozen=True)
class PrecisionRecall:
    """Precision and recall in [0, 1], with the k and set sizes they were computed with."""

    precision: float
    recall: float
    k: int
    n_real: int
    n_fake: int

    def to_dict(self) -> dict[str, float | int]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "k": self.k,
            "n_real": self.n_real,
            "n_fake": self.n_fake,
        }


def _as_tensor(x: np.ndarray, name: str) -> Tensor:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} features must be (N, D), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} features contain NaN or inf")
    return torch.from_numpy(np.ascontiguousarray(arr))


def _sq_dists(a: Tensor, b: Tensor, b_sq: Tensor) -> Tensor:
    """Squared Euclidean distances (len(a), len(b)), clamped at 0 against rounding."""
    a_sq = (a * a).sum(1, keepdim=True)
    return (a_sq + b_sq[None, :] - 2.0 * (a @ b.T)).clamp_min_(0.0)


def _rows_per_block(n_cols: int, max_block_elems: int) -> int:
    return max(1, max_block_elems // max(n_cols, 1))


def knn_radii(features: np.ndarray | Tensor, k: int = 3, max_block_elems: int = _DEFAULT_BLOCK) -> np.ndarray:
    """Distance of every point to its k-th nearest neighbour within the set (itself excluded): (N,) float64.

    Raises:
        ValueError: fewer than k + 1 points.
    """
    x = features if isinstance(features, Tensor) else _as_tensor(features, "")
    x = x.double()
    n = len(x)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if n < k + 1:
        raise ValueError(f"need at least k + 1 = {k + 1} points for k-NN radii, got {n}")
    sq = (x * x).sum(1)
    out = torch.empty(n, dtype=torch.float64)
    step = _rows_per_block(n, max_block_elems)
    for i in range(0, n, step):
        d = _sq_dists(x[i : i + step], x, sq)
        rows = torch.arange(i, min(i + step, n))
        d[rows - i, rows] = 0.0  # a point's distance to itself, exactly
        # the (k+1)-th smallest value of the row: the point itself is the first
        out[i : i + step] = torch.kthvalue(d, k + 1, dim=1).values
    return out.sqrt().numpy()


def precision_recall(
    real: np.ndarray,
    fake: np.ndarray,
    k: int = 3,
    max_block_elems: int = _DEFAULT_BLOCK,
    num_threads: int | None = DEFAULT_THREADS,
) -> PrecisionRecall:
    """Improved precision and recall of ``fake`` (M, D) against ``real`` (N, D) features with k-NN balls.

    A point on a ball's boundary counts as inside. Both sets need at least k + 1 points.
    ``num_threads``: torch threads for the distance blocks (None: torch's current setting).
    """
    with torch_threads(num_threads):
        return _precision_recall(real, fake, k, max_block_elems)


def _precision_recall(real: np.ndarray, fake: np.ndarray, k: int, max_block_elems: int) -> PrecisionRecall:
    r = _as_tensor(real, "real")
    f = _as_tensor(fake, "fake")
    if r.shape[1] != f.shape[1]:
        raise ValueError(f"feature dimensions differ: real {r.shape[1]}, fake {f.shape[1]}")
    centre = r.mean(0, keepdim=True)
    r, f = r - centre, f - centre
    tol = 1e-10 * float((r * r).sum(1).mean() + (f * f).sum(1).mean())
    radius_r = torch.from_numpy(knn_radii(r, k, max_block_elems)) ** 2 + tol
    radius_f = torch.from_numpy(knn_radii(f, k, max_block_elems)) ** 2 + tol
    r_sq = (r * r).sum(1)
    fake_in_real = torch.zeros(len(f), dtype=torch.bool)
    real_in_fake = torch.zeros(len(r), dtype=torch.bool)
    step = _rows_per_block(len(r), max_block_elems)
    for i in range(0, len(f), step):
        d = _sq_dists(f[i : i + step], r, r_sq)  # (block of fake, real)
        fake_in_real[i : i + step] = (d <= radius_r[None, :]).any(1)
        real_in_fake |= (d <= radius_f[i : i + step, None]).any(0)
    return PrecisionRecall(
        precision=float(fake_in_real.double().mean()),
        recall=float(real_in_fake.double().mean()),
        k=k,
        n_real=len(r),
        n_fake=len(f),
    )
