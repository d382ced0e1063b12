"""evaluate_samples: the whole report on real digits with the real EfficientNet, and its input checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from unmask.data import get_dataset
from unmask.eval import ClassifierReport, conditional_accuracy
from unmask.eval.inception_score import inception_score
from unmask.eval.reference import select_indices
from unmask.eval.report import evaluate_samples

pytestmark = pytest.mark.usefixtures("one_thread")

REF_N = 16


@pytest.fixture(scope="module")
def clf(quick_digits_classifier: ClassifierReport) -> ClassifierReport:
    return quick_digits_classifier


@pytest.fixture(scope="module")
def test_split() -> tuple[np.ndarray, np.ndarray]:
    ds = get_dataset("digits", "test")
    assert ds.labels is not None
    return ds.images(), ds.labels.numpy()


def test_reference_images_score_perfectly(clf: ClassifierReport, test_split: tuple[np.ndarray, np.ndarray]) -> None:
    """Samples that are the reference images themselves: FD ≈ 0, precision = recall = 1."""
    images, labels = test_split
    idx = select_indices(len(images), REF_N)
    rep = evaluate_samples(images[idx], labels[idx], "digits", classifier=clf, ref_n=REF_N, levels=17)
    assert rep["fd"] == pytest.approx(0.0, abs=1e-3)
    assert rep["precision"] == 1.0 and rep["recall"] == 1.0
    assert rep["n"] == REF_N and rep["ref_n"] == REF_N and rep["pr_k"] == 3
    assert str(rep["extractor"]).startswith("efficientnet-lite0-")
    assert rep["classifier_test_accuracy"] == clf.test_accuracy
    expected = conditional_accuracy(clf.model, images[idx], labels[idx])
    assert rep["conditional_accuracy"] == expected.accuracy
    assert rep["conditional_accuracy_per_class"] == expected.per_class
    assert rep["conditional_accuracy_n"] == REF_N
    assert rep["inception_score"] == pytest.approx(inception_score(clf.model.predict_proba(images[idx])).mean)
    json.dumps(rep)  # serialisable as is


def test_other_samples_and_unlabelled(clf: ClassifierReport, test_split: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = test_split
    ref_idx = set(select_indices(len(images), REF_N).tolist())
    others = np.array([i for i in range(len(images)) if i not in ref_idx][:8])
    blank = np.zeros((4, 8, 8), dtype=np.uint8)
    samples = np.concatenate([images[others], blank])
    sample_labels = np.concatenate([labels[others], np.full(4, -1)])  # 4 unconditional samples
    rep = evaluate_samples(samples, sample_labels, "digits", classifier=clf, ref_n=REF_N)
    assert rep["fd"] > 1.0  # type: ignore[operator]
    assert 0.0 <= rep["precision"] < 1.0  # type: ignore[operator]  # blank images lie off the digit manifold
    assert 0.0 <= rep["recall"] <= 1.0  # type: ignore[operator]
    assert rep["conditional_accuracy_n"] == 8
    assert rep["conditional_accuracy"] == conditional_accuracy(clf.model, images[others], labels[others]).accuracy
    assert 1.0 <= rep["inception_score"] <= 10.0  # type: ignore[operator]

    none = evaluate_samples(samples, None, "digits", classifier=False, ref_n=REF_N)
    assert none["fd"] == pytest.approx(rep["fd"], rel=1e-6)
    for key in ("inception_score", "conditional_accuracy", "conditional_accuracy_n", "classifier_test_accuracy"):
        assert none[key] is None
    unlabelled = evaluate_samples(samples, np.full(12, -1), "digits", classifier=clf, ref_n=REF_N)
    assert unlabelled["conditional_accuracy"] is None and unlabelled["inception_score"] is not None


def test_input_validation(clf: ClassifierReport) -> None:
    ok = np.zeros((6, 8, 8), dtype=np.uint8)
    with pytest.raises(ValueError, match="uint8"):
        evaluate_samples(ok.astype(np.float32), None, "digits", classifier=clf)
    with pytest.raises(ValueError, match=r"expected \(N, 8, 8\)"):
        evaluate_samples(np.zeros((6, 28, 28), dtype=np.uint8), None, "digits", classifier=clf)
    with pytest.raises(ValueError, match=r"expected \(N, 8, 8\)"):
        evaluate_samples(np.zeros((6, 8, 8, 3), dtype=np.uint8), None, "digits", classifier=clf)
    with pytest.raises(ValueError, match="at least 2"):
        evaluate_samples(ok[:1], None, "digits", classifier=clf)
    with pytest.raises(ValueError, match=r"labels must have shape \(6,\)"):
        evaluate_samples(ok, np.zeros(5, dtype=np.int64), "digits", classifier=clf)
    with pytest.raises(ValueError, match="integers"):
        evaluate_samples(ok, np.zeros(6), "digits", classifier=clf)
    with pytest.raises(ValueError, match="k = 3 needs more than 3"):
        evaluate_samples(ok[:3], None, "digits", classifier=clf)
    with pytest.raises(ValueError, match="'bogus'"):
        evaluate_samples(ok, None, "digits", extractor="bogus", classifier=clf)
