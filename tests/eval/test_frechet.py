"""Fréchet distance: zero on identical statistics, closed forms, symmetry, singular covariances."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from unmask.eval.frechet import FeatureStats, frechet_distance, symmetric_eigh, trace_sqrt_product


def _random_cov(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_identical_stats_give_zero() -> None:
    rng = np.random.default_rng(0)
    stats = FeatureStats.from_features(rng.normal(size=(300, 24)) * 3.0 + 1.0)
    fd = frechet_distance(stats, stats)
    assert fd == pytest.approx(0.0, abs=1e-9 * np.trace(stats.sigma))


def test_from_features_matches_numpy() -> None:
    x = np.random.default_rng(1).normal(size=(50, 7)).astype(np.float32)
    stats = FeatureStats.from_features(x)
    np.testing.assert_allclose(stats.mu, x.astype(np.float64).mean(0), rtol=1e-12)
    np.testing.assert_allclose(stats.sigma, np.cov(x.astype(np.float64), rowvar=False), rtol=1e-10)
    assert stats.n == 50 and stats.dim == 7
    assert stats.mu.dtype == np.float64 and stats.sigma.dtype == np.float64


def test_diagonal_closed_form() -> None:
    """For diagonal Σ: FD = ‖μ_a − μ_b‖² + Σ_i (√a_i − √b_i)²."""
    rng = np.random.default_rng(2)
    d = 32
    va, vb = rng.uniform(0.1, 5.0, d), rng.uniform(0.1, 5.0, d)
    ma, mb = rng.normal(size=d), rng.normal(size=d)
    expected = float(((ma - mb) ** 2).sum() + ((np.sqrt(va) - np.sqrt(vb)) ** 2).sum())
    fd = frechet_distance(FeatureStats(ma, np.diag(va), 10), FeatureStats(mb, np.diag(vb), 10))
    assert fd == pytest.approx(expected, rel=1e-10)


def test_mean_shift_only() -> None:
    rng = np.random.default_rng(3)
    cov = _random_cov(rng, 16)
    mu = rng.normal(size=16)
    shift = rng.normal(size=16)
    fd = frechet_distance(FeatureStats(mu, cov, 5), FeatureStats(mu + shift, cov, 5))
    assert fd == pytest.approx(float(shift @ shift), rel=1e-8)


def test_symmetric_and_non_negative() -> None:
    rng = np.random.default_rng(4)
    for _ in range(5):
        a = FeatureStats(rng.normal(size=20), _random_cov(rng, 20), 3)
        b = FeatureStats(rng.normal(size=20), _random_cov(rng, 20), 3)
        ab, ba = frechet_distance(a, b), frechet_distance(b, a)
        assert ab > 0
        assert ab == pytest.approx(ba, rel=1e-10)


def test_matches_sqrtm_formula() -> None:
    """On well-conditioned covariances the eigenvalue route equals pytorch-fid's sqrtm route."""
    rng = np.random.default_rng(5)
    s1, s2 = _random_cov(rng, 40), _random_cov(rng, 40)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    assert trace_sqrt_product(s1, s2) == pytest.approx(float(np.trace(covmean).real), rel=1e-8)
    m1, m2 = rng.normal(size=40), rng.normal(size=40)
    ref = float((m1 - m2) @ (m1 - m2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean).real)
    assert frechet_distance(FeatureStats(m1, s1, 2), FeatureStats(m2, s2, 2)) == pytest.approx(ref, rel=1e-8)


def test_singular_covariances_fewer_samples_than_dims() -> None:
    """10 samples in 64 dimensions: rank-9 covariances; the distance stays finite and exact."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=(10, 64))
    a = FeatureStats.from_features(x)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9 * np.trace(a.sigma))
    shift = np.full(64, 0.5)
    b = FeatureStats.from_features(x + shift)
    assert frechet_distance(a, b) == pytest.approx(float(shift @ shift), rel=1e-7)
    c = FeatureStats.from_features(rng.normal(size=(10, 64)) * 2)
    fd = frechet_distance(a, c)
    assert np.isfinite(fd) and fd > 0
    assert fd == pytest.approx(frechet_distance(c, a), rel=1e-8)


def test_features_that_barely_vary_or_not_at_all() -> None:
    """Covariance entries ~1e-6 (samples of an untrained model through a feature extractor) give the
    same distance as the same features scaled up, scaled back; identical samples (Σ = 0) give
    ‖μ_a − μ_b‖² + tr Σ_b."""
    rng = np.random.default_rng(7)
    x = np.zeros((20, 256))
    x[:, rng.choice(256, 15, replace=False)] = rng.normal(size=(20, 15)) * 1e-3
    ref = FeatureStats.from_features(rng.normal(size=(40, 256)))
    tiny = FeatureStats.from_features(x)
    big = FeatureStats.from_features(x * 1e3)
    assert trace_sqrt_product(tiny.sigma, ref.sigma, 1) == pytest.approx(
        trace_sqrt_product(big.sigma, ref.sigma, 1) * 1e-3, rel=1e-8
    )
    same = FeatureStats.from_features(np.ones((20, 256)))
    want = float((same.mu - ref.mu) @ (same.mu - ref.mu) + np.trace(ref.sigma))
    assert frechet_distance(same, ref, 1) == pytest.approx(want, rel=1e-10)
    assert frechet_distance(ref, same, 1) == pytest.approx(want, rel=1e-10)


def test_eigh_falls_back_to_numpy_when_torch_does_not_converge(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(8)
    s1, s2 = _random_cov(rng, 30), _random_cov(rng, 30)
    want = trace_sqrt_product(s1, s2)

    def fails(*args: object, **kwargs: object) -> None:
        raise torch.linalg.LinAlgError("linalg.eigh: The algorithm failed to converge")

    monkeypatch.setattr(torch.linalg, "eigh", fails)
    assert trace_sqrt_product(s1, s2) == pytest.approx(want, rel=1e-10)
    w, v = symmetric_eigh(torch.from_numpy(s1))
    np.testing.assert_allclose((v * w) @ v.T, s1, atol=1e-10)


def test_errors() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        FeatureStats.from_features(np.zeros((1, 4)))
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        FeatureStats.from_features(np.zeros(4))
    with pytest.raises(ValueError, match="sigma"):
        FeatureStats(np.zeros(3), np.eye(4), 2)
    with pytest.raises(ValueError, match="finite"):
        FeatureStats(np.array([0.0, np.nan]), np.eye(2), 2)
    with pytest.raises(ValueError, match="dimensions differ"):
        frechet_distance(FeatureStats(np.zeros(3), np.eye(3), 2), FeatureStats(np.zeros(4), np.eye(4), 2))
