"""Scores of predicted class maps and labels: confusion matrix, mIoU, pixel accuracy, accuracy,
and per-pixel uncertainty from several samples of one input.

* **Confusion matrix** C (K, K): C[i, j] counts pixels of true class i predicted as j,
  summed over the whole evaluated set.
* **IoU of class c** = C[c, c] / (Σ_j C[c, j] + Σ_i C[i, c] − C[c, c]), from the set's
  summed confusion (the usual dataset-level IoU, as in Cityscapes' and PASCAL's scripts).
* **mIoU** is the mean IoU over the classes present in the prediction or the truth of the
  set (a class absent from both has 0 / 0 and is left out, reported as NaN per class).
* **Pixel accuracy** = trace(C) / ΣC.
* **Uncertainty** of K sampled maps of one input: the entropy (nats) of each pixel's
  empirical class frequencies (0 when all K samples agree; at most log min(K, classes)),
  and the disagreement 1 − (frequency of the most common class).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "confusion_matrix",
    "SegmentationScores",
    "segmentation_scores",
    "scores_from_confusion",
    "uncertainty_map",
    "uncertainty_vs_error",
    "majority_vote",
    "accuracy",
]


def _as_ids(x: object, name: str) -> np.ndarray:
    a = np.asarray(x)
    if not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class ids, got dtype {a.dtype}")
    return a.astype(np.int64)


def confusion_matrix(pred: object, target: object, num_classes: int) -> np.ndarray:
    """(K, K) int64 counts, rows = true class, columns = predicted class, over all entries.

    ``pred`` and ``target`` are integer arrays of one shape with ids in [0, K); ``ValueError``
    names a mismatch in shape or an id outside the classes.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be an integer >= 1, got {num_classes!r}")
    p, t = _as_ids(pred, "predictions"), _as_ids(target, "targets")
    if p.shape != t.shape:
        raise ValueError(f"predictions of shape {p.shape} do not match targets of shape {t.shape}")
    for name, a in (("predictions", p), ("targets", t)):
        if a.size and (a.min() < 0 or a.max() >= num_classes):
            bad = int(a.min()) if a.min() < 0 else int(a.max())
            raise ValueError(f"{name} contain class {bad} outside [0, {num_classes - 1}]")
    flat = t.reshape(-1) * num_classes + p.reshape(-1)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


@dataclass(frozen=True)
class SegmentationScores:
    """mIoU, pixel accuracy, per-class IoU (NaN for classes absent from prediction and truth), confusion."""

    miou: float
    pixel_accuracy: float
    per_class_iou: tuple[float, ...]
    confusion: np.ndarray

    def to_dict(self, class_names: tuple[str, ...] | None = None) -> dict[str, object]:
        names = class_names or tuple(str(i) for i in range(len(self.per_class_iou)))
        return {
            "miou": self.miou,
            "pixel_accuracy": self.pixel_accuracy,
            "per_class_iou": {n: (None if np.isnan(v) else v) for n, v in zip(names, self.per_class_iou, strict=True)},
            "confusion": self.confusion.tolist(),
        }


def scores_from_confusion(confusion: np.ndarray) -> SegmentationScores:
    """``SegmentationScores`` of a (K, K) confusion matrix (see the module docstring)."""
    c = np.asarray(confusion, dtype=np.int64)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"a confusion matrix must be square (K, K), got shape {c.shape}")
    tp = np.diag(c).astype(np.float64)
    union = c.sum(0) + c.sum(1) - np.diag(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, tp / np.maximum(union, 1), np.nan)
    present = union > 0
    total = c.sum()
    return SegmentationScores(
        miou=float(iou[present].mean()) if present.any() else float("nan"),
        pixel_accuracy=float(tp.sum() / total) if total else float("nan"),
        per_class_iou=tuple(float(v) for v in iou),
        confusion=c,
    )


def segmentation_scores(pred: object, target: object, num_classes: int) -> SegmentationScores:
    """Scores of predicted class maps ``pred`` against ``target`` (same shape, e.g. (N, H, W))."""
    return scores_from_confusion(confusion_matrix(pred, target, num_classes))


def accuracy(pred: object, target: object) -> float:
    """Fraction of equal entries of two integer arrays of one shape (e.g. predicted and true labels (N,))."""
    p, t = _as_ids(pred, "predictions"), _as_ids(target, "targets")
    if p.shape != t.shape:
        raise ValueError(f"predictions of shape {p.shape} do not match targets of shape {t.shape}")
    if p.size == 0:
        raise ValueError("accuracy of no predictions is undefined")
    return float((p == t).mean())


def _frequencies(samples: object, num_classes: int) -> np.ndarray:
    s = _as_ids(samples, "samples")
    if s.ndim < 2:
        raise ValueError(f"samples must have shape (K, ...) with K samples of a map, got {s.shape}")
    if s.size and (s.min() < 0 or s.max() >= num_classes):
        bad = int(s.min()) if s.min() < 0 else int(s.max())
        raise ValueError(f"samples contain class {bad} outside [0, {num_classes - 1}]")
    counts = np.stack([(s == c).sum(0) for c in range(num_classes)], axis=-1)  # (..., K classes)
    return counts / s.shape[0]


def uncertainty_map(samples: object, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(entropy, disagreement) per pixel, each shaped like one sample, from K samples (K, ...).

    entropy = −Σ_c f_c log f_c over the empirical class frequencies f (nats);
    disagreement = 1 − max_c f_c. Both are 0 where all samples agree.
    """
    f = _frequencies(samples, num_classes)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(f > 0, f * np.log(np.where(f > 0, f, 1.0)), 0.0).sum(-1)
    return np.maximum(ent, 0.0), 1.0 - f.max(-1)


def uncertainty_vs_error(
    uncertainty: object, vote: object, truth: object, top: float = 0.1, seed: int = 0
) -> dict[str, float]:
    """Does high uncertainty mark the pixels the majority vote gets wrong?

    Args:
        uncertainty: per-pixel uncertainty (any shape, e.g. the disagreement of ``uncertainty_map``).
        vote: the majority vote, same shape, int.
        truth: the true classes, same shape, int.
        top: the share of most uncertain pixels to compare with the rest, in (0, 1).
        seed: breaks ties among equally uncertain pixels at the ``top`` cut (many are 0 when the samples agree).

    Returns:
        ``error_top`` / ``error_rest``: the vote's error rate among the ``top`` most uncertain pixels and
        among the others; ``error_uncertain`` / ``error_certain``: among the pixels with uncertainty > 0
        and = 0 (NaN when a group is empty), with ``uncertain_share``; ``auroc``: the probability that a
        wrong pixel is more uncertain than a right one (ties count half; 0.5 = uninformative, NaN when
        every pixel is right or every pixel is wrong); ``error``: the vote's overall error rate.
    """
    u = np.asarray(uncertainty, dtype=np.float64).reshape(-1)
    v, t = _as_ids(vote, "vote").reshape(-1), _as_ids(truth, "truth").reshape(-1)
    if not (u.shape == v.shape == t.shape):
        raise ValueError(f"uncertainty, vote and truth must have one shape, got {u.size}, {v.size}, {t.size} entries")
    if u.size == 0:
        raise ValueError("uncertainty_vs_error of no pixels is undefined")
    if not 0.0 < top < 1.0:
        raise ValueError(f"top must be in (0, 1), got {top}")
    wrong = v != t
    order = np.lexsort((np.random.default_rng(seed).random(u.size), -u))  # most uncertain first, ties shuffled
    k = max(1, int(round(top * u.size)))
    in_top = np.zeros(u.size, dtype=bool)
    in_top[order[:k]] = True

    def rate(sel: np.ndarray) -> float:
        return float(wrong[sel].mean()) if sel.any() else float("nan")

    n_wrong, n_right = int(wrong.sum()), int((~wrong).sum())
    auroc = float("nan")
    if n_wrong and n_right:
        _, inverse, counts = np.unique(u, return_inverse=True, return_counts=True)
        ends = np.cumsum(counts)
        ranks = (ends - (counts - 1) / 2.0)[inverse]  # average ranks, 1-based
        auroc = float((ranks[wrong].sum() - n_wrong * (n_wrong + 1) / 2.0) / (n_wrong * n_right))
    return {
        "error": float(wrong.mean()),
        "error_top": rate(in_top),
        "error_rest": rate(~in_top),
        "top": top,
        "error_uncertain": rate(u > 0),
        "error_certain": rate(u == 0),
        "uncertain_share": float((u > 0).mean()),
        "auroc": auroc,
    }


def majority_vote(samples: object, num_classes: int) -> np.ndarray:
    """The most frequent class of each entry over K samples (K, ...) (ties → lower id), int64."""
    return _frequencies(samples, num_classes).argmax(-1).astype(np.int64)
