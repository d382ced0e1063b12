"""Inception-Score-style score from class probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from unmask.eval.inception_score import inception_score


def test_uniform_predictions_score_one() -> None:
    p = np.full((40, 10), 0.1, dtype=np.float32)
    s = inception_score(p)
    assert s.mean == pytest.approx(1.0, abs=1e-6)
    assert (s.std, s.splits, s.n) == (0.0, 1, 40)


def test_identical_confident_predictions_score_one() -> None:
    p = np.zeros((12, 5))
    p[:, 2] = 1.0
    assert inception_score(p).mean == pytest.approx(1.0)


def test_one_hot_balanced_scores_num_classes() -> None:
    c = 7
    p = np.eye(c)[np.tile(np.arange(c), 6)]
    assert inception_score(p).mean == pytest.approx(c, rel=1e-12)
    s = inception_score(p, splits=3)  # each split of 14 is itself balanced
    assert s.mean == pytest.approx(c, rel=1e-12) and s.std == pytest.approx(0.0, abs=1e-12)


def test_matches_direct_formula() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(30, 4)) * 2
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    py = p.mean(0)
    expected = np.exp(np.mean(np.sum(p * (np.log(p) - np.log(py)), axis=1)))
    assert inception_score(p).mean == pytest.approx(expected, rel=1e-10)
    assert 1.0 < expected < 4.0


def test_splits_mean_and_std() -> None:
    # first half: balanced one-hot over 2 classes (score 2); second half: uniform (score 1)
    p = np.concatenate([np.eye(2)[[0, 1, 0, 1]], np.full((4, 2), 0.5)])
    s = inception_score(p, splits=2)
    assert s.mean == pytest.approx(1.5) and s.std == pytest.approx(0.5)


def test_errors() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        inception_score(np.ones((3, 4)))
    with pytest.raises(ValueError, match="non-negative"):
        inception_score(np.array([[1.5, -0.5]]))
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        inception_score(np.ones(4) / 4)
    with pytest.raises(ValueError, match="splits"):
        inception_score(np.full((3, 2), 0.5), splits=4)
