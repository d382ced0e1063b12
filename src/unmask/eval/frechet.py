"""Fréchet distance between Gaussians fitted to two sets of features (FID when the features are Inception's).

    FD = ‖μ_a − μ_b‖² + tr Σ_a + tr Σ_b − 2 tr (Σ_a Σ_b)^{1/2}

The trace of the matrix square root is computed from symmetric eigendecompositions:
with A = Σ_a^{1/2} (by ``eigh``), the matrix A Σ_b A is symmetric positive semi-definite
with the eigenvalues of Σ_a Σ_b, so tr (Σ_a Σ_b)^{1/2} = Σ_i √λ_i(A Σ_b A). Eigenvalues at
rounding-noise level count as 0. Unlike ``scipy.linalg.sqrtm`` on the non-symmetric product
(pytorch-fid's route, which needs an ε-offset retry and drops imaginary parts), this stays
real and finite for singular covariances — e.g. fewer samples than dimensions.

The decompositions run in float64 with torch (LAPACK) on ``num_threads`` threads (default 1,
see ``unmask.eval._threads``): about 1 s for D = 1280 on this project's 2-core machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ._threads import DEFAULT_THREADS, torch_threads

__all__ = ["FeatureStats", "frechet_distance", "trace_sqrt_product"]


@dataclass(frozen=True)
class FeatureStats:
    """Mean and covariance of a set of features.

    Attributes:
        mu: (D,) float64 mean.
        sigma: (D, D) float64 covariance (unbiased, ``ddof=1``, as pytorch-fid's ``np.cov``).
        n: number of feature vectors they were computed from.
    """

    mu: np.ndarray
    sigma: np.ndarray
    n: int

    def __post_init__(self) -> None:
        mu = np.asarray(self.mu, dtype=np.float64)
        sigma = np.asarray(self.sigma, dtype=np.float64)
        if mu.ndim != 1:
            raise ValueError(f"mu must be a vector (D,), got shape {mu.shape}")
        if sigma.shape != (len(mu), len(mu)):
            raise ValueError(f"sigma must be ({len(mu)}, {len(mu)}) to match mu, got {sigma.shape}")
        if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
            raise ValueError("mu and sigma must be finite")
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "sigma", sigma)

    @property
    def dim(self) -> int:
        return int(self.mu.shape[0])

    @classmethod
    def from_features(cls, features: np.ndarray, num_threads: int | None = DEFAULT_THREADS) -> FeatureStats:
        """Statistics of features (N, D), N ≥ 2; computed in float64 (torch, ``num_threads`` threads)."""
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"features must be (N, D), got shape {x.shape}")
        if len(x) < 2:
            raise ValueError(f"need at least 2 feature vectors for a covariance, got {len(x)}")
        t = torch.from_numpy(np.ascontiguousarray(x))
        with torch_threads(num_threads):
            mu = t.mean(0)
            centred = t - mu
            sigma = centred.T @ centred / (len(x) - 1)
        return cls(mu.numpy(), sigma.numpy(), int(len(x)))


def _clip_eigenvalues(w: Tensor) -> Tensor:
    """Eigenvalues of a PSD matrix with rounding noise removed: values below D·ε·max|λ| (the rank
    tolerance of ``numpy.linalg.matrix_rank``) are set to 0, so that the null space of a singular
    covariance adds nothing (√ of ±1e-16 noise would add ~1e-8 per dimension)."""
    tol = len(w) * torch.finfo(torch.float64).eps * float(w.abs().max()) if len(w) else 0.0
    return torch.where(w > tol, w, torch.zeros_like(w))


def trace_sqrt_product(sigma_a: np.ndarray, sigma_b: np.ndarray, num_threads: int | None = DEFAULT_THREADS) -> float:
    """tr (Σ_a Σ_b)^{1/2} for symmetric PSD (D, D) matrices, via eigenvalues of Σ_a^{1/2} Σ_b Σ_a^{1/2}.

    Only the eigenvectors of Σ_a with non-zero eigenvalues enter, so for a rank-r Σ_a (r < D, e.g.
    r < n samples) the second eigenproblem is r × r.
    """
    a = torch.from_numpy(np.asarray(sigma_a, dtype=np.float64))
    b = torch.from_numpy(np.asarray(sigma_b, dtype=np.float64))
    with torch_threads(num_threads):
        w, v = symmetric_eigh(a)
        w = _clip_eigenvalues(w)
        keep = w > 0
        if not bool(keep.any()):
            return 0.0
        # Σ_a^{1/2} = V_r diag(√w_r) V_rᵀ; the non-zero spectrum of Σ_a^{1/2} Σ_b Σ_a^{1/2} is that of
        # diag(√w_r) V_rᵀ Σ_b V_r diag(√w_r)  (r × r)
        half = v[:, keep] * w[keep].sqrt()
        eig, _ = symmetric_eigh(half.T @ b @ half)
        return float(_clip_eigenvalues(eig).sqrt().sum())


def symmetric_eigh(m: Tensor) -> tuple[Tensor, Tensor]:
    """Eigenvalues (D,) ascending and eigenvectors (D, D) of the symmetric part of a float64 (D, D) matrix.

    The matrix is divided by its largest entry first (eigenvalues scaled back): covariances of
    features that barely vary (entries ~1e-6) made LAPACK's divide-and-conquer driver fail to
    converge on one thread. Should torch's driver still fail, numpy's (a different LAPACK routine)
    is used; an all-zero matrix has all-zero eigenvalues.
    """
    sym = (m + m.T) / 2
    scale = float(sym.abs().max()) if sym.numel() else 0.0
    if scale == 0.0:
        return torch.zeros(len(sym), dtype=sym.dtype), torch.eye(len(sym), dtype=sym.dtype)
    try:
        w, v = torch.linalg.eigh(sym / scale)
    except torch.linalg.LinAlgError:
        w_np, v_np = np.linalg.eigh(sym.numpy() / scale)
        w, v = torch.from_numpy(w_np), torch.from_numpy(v_np)
    return w * scale, v


def frechet_distance(a: FeatureStats, b: FeatureStats, num_threads: int | None = DEFAULT_THREADS) -> float:
    """Fréchet distance (≥ 0) between N(μ_a, Σ_a) and N(μ_b, Σ_b); squared units of the features.

    ``num_threads``: torch threads for the eigendecompositions (None: torch's current setting).

    Raises:
        ValueError: the two statistics have different dimensions.
    """
    if a.dim != b.dim:
        raise ValueError(f"feature dimensions differ: {a.dim} vs {b.dim} (different extractors?)")
    diff = a.mu - b.mu
    value = float(diff @ diff) + float(np.trace(a.sigma)) + float(np.trace(b.sigma))
    value -= 2.0 * trace_sqrt_product(a.sigma, b.sigma, num_threads)
    return max(value, 0.0)
