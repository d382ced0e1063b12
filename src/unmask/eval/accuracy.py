"""Conditional accuracy: does an independent classifier recognise samples as their label?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .classifier import ImageClassifier

__all__ = ["ConditionalAccuracy", "conditional_accuracy"]


@dataclass
class ConditionalAccuracy:
    """Overall and per-class accuracy of ``classifier(images) == labels``."""

    accuracy: float
    per_class: dict[int, float]
    n: int

    def to_dict(self) -> dict[str, object]:
        return {"accuracy": self.accuracy, "per_class": self.per_class, "n": self.n}


def conditional_accuracy(classifier: ImageClassifier, images: np.ndarray, labels: np.ndarray) -> ConditionalAccuracy:
    """Accuracy of the classifier's predictions on uint8 ``images`` (N, H, W) against ``labels`` (N,)."""
    labels = np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if len(labels) == 0:
        raise ValueError("no samples to score")
    if (labels < 0).any():
        raise ValueError("samples carry no class labels (label -1: unconditional); conditional accuracy needs them")
    if labels.max() >= classifier.num_classes:
        raise ValueError(f"label {int(labels.max())} outside the classifier's {classifier.num_classes} classes")
    pred = classifier.predict(images)
    correct = pred == labels
    per_class = {int(c): float(correct[labels == c].mean()) for c in np.unique(labels)}
    return ConditionalAccuracy(float(correct.mean()), per_class, int(len(labels)))
