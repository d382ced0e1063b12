"""Improved precision / recall: identical sets, disjoint sets, mode dropping, batching."""

from __future__ import annotations

import numpy as np
import pytest

from unmask.eval.precision_recall import knn_radii, precision_recall


def _clusters(rng: np.random.Generator, centres: np.ndarray, per: int, scale: float = 1.0) -> np.ndarray:
    return np.concatenate([c + scale * rng.normal(size=(per, centres.shape[1])) for c in centres])


def test_knn_radii_match_brute_force() -> None:
    x = np.random.default_rng(0).normal(size=(57, 5))
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    for k in (1, 3, 5):
        expected = np.sort(d, axis=1)[:, k]  # column 0 is the point itself
        np.testing.assert_allclose(knn_radii(x, k), expected, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(knn_radii(x, k, max_block_elems=50), expected, rtol=1e-9, atol=1e-12)


def test_identical_sets() -> None:
    x = np.random.default_rng(1).normal(size=(200, 16)) * 10 + 100
    pr = precision_recall(x, x.copy(), k=3)
    assert pr.precision == 1.0 and pr.recall == 1.0
    assert (pr.n_real, pr.n_fake, pr.k) == (200, 200, 3)


def test_identical_sets_with_duplicates() -> None:
    """Points repeated k+1 times have radius 0; rounding must not push them out of their own balls."""
    base = np.random.default_rng(2).normal(size=(10, 8)) * 1e3
    x = np.repeat(base, 4, axis=0)
    pr = precision_recall(x, x[::-1].copy(), k=3)
    assert pr.precision == 1.0 and pr.recall == 1.0


def test_disjoint_far_apart_clouds() -> None:
    rng = np.random.default_rng(3)
    real = rng.normal(size=(150, 10))
    fake = rng.normal(size=(120, 10)) + 100.0
    pr = precision_recall(real, fake, k=3)
    assert pr.precision == 0.0 and pr.recall == 0.0


def test_mode_dropping_lowers_recall_not_precision() -> None:
    rng = np.random.default_rng(4)
    centres = np.eye(3, 4) * 50.0
    real = _clusters(rng, centres, 200)
    fake = real[:200]  # only the first mode, exactly on the data
    pr = precision_recall(real, fake, k=3)
    assert pr.precision == 1.0
    assert pr.recall == pytest.approx(1 / 3, abs=0.01)
    # fresh draws: all modes vs one mode — same precision, a third of the recall
    full = precision_recall(real, _clusters(rng, centres, 200), k=3)
    one = precision_recall(real, _clusters(rng, centres[:1], 200), k=3)
    assert full.precision > 0.85 and one.precision > 0.85
    assert abs(full.precision - one.precision) < 0.05
    assert full.recall > 0.85
    assert one.recall < 0.34


def test_blocking_does_not_change_the_result() -> None:
    rng = np.random.default_rng(5)
    real, fake = rng.normal(size=(90, 6)), rng.normal(size=(70, 6)) + 1.0
    a = precision_recall(real, fake, k=3)
    b = precision_recall(real, fake, k=3, max_block_elems=7)
    assert (a.precision, a.recall) == (b.precision, b.recall)
    assert 0 < a.precision < 1 and 0 < a.recall < 1


def test_errors() -> None:
    rng = np.random.default_rng(6)
    with pytest.raises(ValueError, match="dimensions differ"):
        precision_recall(rng.normal(size=(10, 3)), rng.normal(size=(10, 4)))
    with pytest.raises(ValueError, match="k \\+ 1 = 4"):
        precision_recall(rng.normal(size=(10, 3)), rng.normal(size=(3, 3)), k=3)
    with pytest.raises(ValueError, match="NaN"):
        precision_recall(np.full((10, 3), np.nan), rng.normal(size=(10, 3)))
    with pytest.raises(ValueError, match="k must be"):
        knn_radii(rng.normal(size=(10, 3)), k=0)
