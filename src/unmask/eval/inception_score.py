"""Inception-Score-style score from class probabilities: exp(E_x KL(p(y|x) ‖ p(y))).

The probabilities come from any classifier — here the dataset's own classifier
(:meth:`ImageClassifier.predict_proba`), not Inception, so values are comparable only
between models scored with the same classifier. The score lies in [1, C]: 1 when every
prediction equals the marginal (uninformative or identical predictions), C when the
predictions are confident (one-hot) and the classes balanced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["InceptionScore", "inception_score"]


@dataclass(frozen=True)
class InceptionScore:
    """Mean and standard deviation of the score over ``splits`` equal parts of ``n`` samples."""

    mean: float
    std: float
    splits: int
    n: int


def _score(p: np.ndarray) -> float:
    marginal = p.mean(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(marginal)), 0.0)
    return float(np.exp(terms.sum(axis=1).mean()))


def inception_score(probs: np.ndarray, splits: int = 1, atol: float = 1e-3) -> InceptionScore:
    """Score of class probabilities ``probs`` (N, C), rows non-negative and summing to 1 (± atol).

    Rows are renormalised in float64. With ``splits`` > 1 the samples are cut into that many
    contiguous parts of (almost) equal size, scored separately, and mean and (population)
    standard deviation returned, as the original Inception Score does.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 1:
        raise ValueError(f"probs must be (N, C), got shape {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("probs must be finite and non-negative")
    sums = p.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=atol):
        worst = float(np.abs(sums - 1).max())
        raise ValueError(f"rows of probs must sum to 1 (worst deviation {worst:.3g}); pass probabilities, not logits")
    if splits < 1 or splits > len(p):
        raise ValueError(f"splits must be in [1, N = {len(p)}], got {splits}")
    p = p / sums[:, None]
    scores = [_score(part) for part in np.array_split(p, splits)]
    return InceptionScore(float(np.mean(scores)), float(np.std(scores)), splits, int(len(p)))
