"""Fixtures shared by the evaluation tests."""

from __future__ import annotations

import pytest

from unmask.data import get_dataset
from unmask.eval import ClassifierReport, train_classifier
from unmask.eval.features import torch_threads


@pytest.fixture(scope="session")
def quick_digits_classifier() -> ClassifierReport:
    """A quickly trained digits classifier (600 train images, 4 epochs), standing in for the cached one,
    which takes minutes to train on this CPU."""
    train, test = get_dataset("digits", "train"), get_dataset("digits", "test")
    assert train.labels is not None and test.labels is not None
    with torch_threads(1):
        model, acc = train_classifier(
            train.images()[:600], train.labels.numpy()[:600], test.images(), test.labels.numpy(), 10, epochs=4
        )
    return ClassifierReport(model, acc, "digits")
